use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "salesflow", version, about = "The sales flowchart as the running system")]
pub struct Cli {
    /// `sqlite://FILE` (default, created if missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = salesflow_store::DEFAULT_URL, global = true)]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the API (default when no command is given).
    Serve(Serve),
    /// Apply database migrations.
    Migrate,
    /// Generate realistic sales history in both languages.
    Demo {
        /// How many deals to generate.
        #[arg(long, default_value_t = 10_000)]
        deals: u64,
        /// Random seed; the same seed gives the same history.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Work with process definition files.
    Process {
        #[command(subcommand)]
        command: ProcessCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Args, Clone)]
pub struct Serve {
    /// Address to listen on.
    #[arg(long, env = "SALESFLOW_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Fill an empty database with a small demo data set first.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub demo_if_empty: bool,
    /// Mark cookies `Secure`: set when users reach the server over HTTPS (directly or
    /// through a proxy).
    #[arg(long, env = "SALESFLOW_SECURE_COOKIES", default_value_t = false, action = clap::ArgAction::Set)]
    pub secure_cookies: bool,
    /// A quote discount above this percentage of the gross needs a manager's approval before
    /// the quote is sent (up to two decimals: `10`, `12.5`).
    #[arg(long, env = "SALESFLOW_DISCOUNT_APPROVAL_PERCENT", default_value = "10", value_parser = percent_bp)]
    pub discount_approval_percent: i64,
    /// The address customers reach this server at (`https://crm.example.com`): customer quote
    /// links start with it. Unset, they start with the address the rep's browser used.
    #[arg(long, env = "SALESFLOW_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,
    /// Memory kept for analytics between requests (estimated, all processes together); the
    /// least recently used process views are dropped beyond it and read again when asked for.
    #[arg(long, env = "SALESFLOW_ANALYTICS_CACHE_MB", default_value_t = salesflow_web::analytics::DEFAULT_BUDGET_MB)]
    pub analytics_cache_mb: usize,
    /// A reverse proxy (address or network, repeatable) whose `X-Forwarded-For` names the
    /// client: sign-in throttling and the audit log then see users' own addresses.
    #[arg(long = "trusted-proxy", env = "SALESFLOW_TRUSTED_PROXIES", value_delimiter = ',', value_parser = trusted_proxy)]
    pub trusted_proxies: Vec<salesflow_web::auth::client::Network>,
}

fn trusted_proxy(text: &str) -> Result<salesflow_web::auth::client::Network, String> {
    salesflow_web::auth::client::Network::parse(text)
}

/// An `http://` or `https://` address without query or fragment, kept without a trailing slash.
pub fn public_url(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ']) => Ok(text.to_string()),
        _ => Err(format!("`{text}` is not an http:// or https:// address without query or fragment")),
    }
}

/// A percentage with up to two decimals, in basis points: `12.5` → 1250.
pub fn percent_bp(text: &str) -> Result<i64, String> {
    let text = text.trim().trim_end_matches('%');
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let bad = || format!("`{text}` is not a percentage between 0 and 100 with at most two decimals");
    if whole.is_empty() || frac.len() > 2 || !(whole.chars().chain(frac.chars())).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    let bp = whole.checked_mul(100).and_then(|w| w.checked_add(frac)).ok_or_else(bad)?;
    if bp > 10_000 { Err(bad()) } else { Ok(bp) }
}

impl Default for Serve {
    fn default() -> Self {
        Serve {
            addr: std::env::var("SALESFLOW_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into()),
            demo_if_empty: true,
            secure_cookies: std::env::var("SALESFLOW_SECURE_COOKIES").is_ok_and(|v| v == "true" || v == "1"),
            discount_approval_percent: std::env::var("SALESFLOW_DISCOUNT_APPROVAL_PERCENT")
                .ok()
                .and_then(|v| percent_bp(&v).ok())
                .unwrap_or(salesflow_domain::selling::DEFAULT_APPROVAL_THRESHOLD_BP),
            public_url: std::env::var("SALESFLOW_PUBLIC_URL").ok().and_then(|v| public_url(&v).ok()),
            analytics_cache_mb: std::env::var("SALESFLOW_ANALYTICS_CACHE_MB")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(salesflow_web::analytics::DEFAULT_BUDGET_MB),
            trusted_proxies: std::env::var("SALESFLOW_TRUSTED_PROXIES")
                .map(|v| v.split(',').filter_map(|n| trusted_proxy(n).ok()).collect())
                .unwrap_or_default(),
        }
    }
}

#[derive(Subcommand)]
pub enum ProcessCommand {
    /// Check a process definition (JSON); exits 1 and names every problem when invalid.
    Validate { file: PathBuf },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user with a password (from SALESFLOW_PASSWORD, or generated and printed
    /// once) and print an API token for them.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// admin, manager, rep or viewer.
        #[arg(long, default_value = "rep")]
        role: String,
        /// zh-CN or en.
        #[arg(long, default_value = "zh-CN")]
        locale: String,
        #[arg(long, default_value = "Asia/Shanghai")]
        time_zone: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user (printed once).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[cfg(test)]
mod tests {
    use super::percent_bp;

    #[test]
    fn percentages_become_basis_points() {
        assert_eq!(percent_bp("10"), Ok(1_000));
        assert_eq!(percent_bp("12.5"), Ok(1_250));
        assert_eq!(percent_bp("0.05%"), Ok(5));
        for bad in ["", "-1", "100.01", "1.234", "ten", "1e3"] {
            assert!(percent_bp(bad).is_err(), "{bad}");
        }
    }
}
