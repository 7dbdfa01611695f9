//! Passwords: argon2id (PHC strings) through `password-auth`, with a minimum length.

use salesflow_domain::Error;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 256;

/// Checks the rules for a new password, naming `field` in the error.
pub fn check_new(field: &str, password: &str) -> Result<(), Error> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(Error::invalid(field, format!("must be at least {MIN_LENGTH} characters")));
    }
    if n > MAX_LENGTH {
        return Err(Error::invalid(field, format!("must be at most {MAX_LENGTH} characters")));
    }
    Ok(())
}

/// Hashes on a blocking thread: argon2 takes tens of milliseconds on purpose.
pub async fn hash(password: &str) -> Result<String, Error> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .map_err(|e| Error::Storage(format!("password hashing failed: {e}")))
}

/// Verifies `password` against `hash`; with no hash, spends the same time and fails, so that
/// timing does not tell which emails exist.
pub async fn verify(password: &str, hash: Option<String>) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => password_auth::verify_password(password, &h).is_ok(),
        None => {
            let _ = password_auth::verify_password(password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password_auth::generate_hash("no such user, no such password"))
}
