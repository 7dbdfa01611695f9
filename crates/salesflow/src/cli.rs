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
}

impl Default for Serve {
    fn default() -> Self {
        Serve {
            addr: std::env::var("SALESFLOW_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into()),
            demo_if_empty: true,
            secure_cookies: std::env::var("SALESFLOW_SECURE_COOKIES").is_ok_and(|v| v == "true" || v == "1"),
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
