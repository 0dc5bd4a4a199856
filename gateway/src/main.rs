//! `mayfly-gateway`: load configuration, start logging, then serve (no subcommand) or run a
//! maintenance command (`rotate-master-key`) against the same database and keys. `openapi`
//! prints the API's OpenAPI document and needs neither configuration nor a database.

use clap::{Parser, Subcommand};
use mayfly_app::rotation::master;
use mayfly_gateway::{
    config::{Config, Flags},
    openapi,
    startup::Application,
    telemetry,
};
use std::io::Write;

/// Command line: the gateway's flags, and optionally a maintenance command.
#[derive(Debug, Parser)]
#[command(
    name = "mayfly-gateway",
    version,
    about = "Mayfly: short-lived AWS credentials, Akeyless-compatible API",
    after_help = "Without a command, the gateway serves. Flags go before the command."
)]
struct Cli {
    #[command(flatten)]
    flags: Flags,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Re-seal every stored secret under a new master key, while gateways keep serving.
    ///
    /// With the generated DATA_DIR/master.key, a new key is generated and written first into
    /// it. With MAYFLY_MASTER_KEY, put the new key first on every gateway (keeping the old
    /// ones after it) and restart them before running this. Safe to interrupt and to rerun:
    /// a rerun finishes an unfinished re-seal. Prints what it did; exits 1 if values are
    /// left under older keys.
    RotateMasterKey,
    /// Print the OpenAPI document of the API (what GET /openapi.json serves) and exit.
    ///
    /// Needs no configuration and touches no database, key or network: the document depends
    /// only on the code. scripts/gen-api-reference.py builds docs/api-reference.md from it.
    Openapi,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // clap only collects the flags' text (it judges no value, see config.rs), so this runs
    // whatever the MAYFLY_* variables hold.
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        return print_openapi();
    }
    let config = match Config::from_layers(cli.flags, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mayfly-gateway: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Kept to the end of main: dropping it writes out the log lines still queued.
    let _log_writer = telemetry::init(config.log_format);
    // One crypto provider for every rustls user in the process (server, database, AWS).
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command {
        None => serve(config).await,
        Some(Command::RotateMasterKey) => rotate_master_key(config).await,
        // Handled above, before the configuration is read.
        Some(Command::Openapi) => print_openapi(),
    }
}

/// `mayfly-gateway openapi`: the document on stdout, followed by a newline.
fn print_openapi() -> std::process::ExitCode {
    let document = match openapi::document_json() {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("mayfly-gateway openapi: cannot serialize the OpenAPI document: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(document)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mayfly-gateway openapi: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> std::process::ExitCode {
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("start-up failed: {e:#}");
            eprintln!("mayfly-gateway: start-up failed: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn rotate_master_key(config: Config) -> std::process::ExitCode {
    let options = master::ResealOptions::from_env();
    if !options.delay_per_value.is_zero() {
        tracing::warn!(
            delay_ms = options.delay_per_value.as_millis() as u64,
            "test hook {} is set: re-sealing slowly",
            master::TEST_DELAY_ENV
        );
    }
    let source = master::KeySource {
        configured: config.master_keys.clone(),
        data_dir: config.data_dir.clone(),
    };
    match master::rotate_master_key(
        &config.database_url,
        config.db_max_connections,
        &source,
        &options,
    )
    .await
    {
        Ok(report) => {
            print!("{report}");
            if report.complete() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("mayfly-gateway rotate-master-key: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
