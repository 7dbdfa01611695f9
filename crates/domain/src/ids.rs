//! Typed ids: a deal id cannot be passed where an account id is expected.

use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

row_id!(UserId, AccountId, ContactId, LeadId, DealId, ProcessId, TeamId, TokenId, ProductId, QuoteId, ContractId);
