//! The deal screens.

use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default()
}
