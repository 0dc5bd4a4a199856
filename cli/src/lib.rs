//! `mayfly`, the command-line client of the Mayfly gateway.
//!
//! It is deliberately thin: every API command is one `POST` of a JSON body to the gateway
//! path of the same name, and the body is simply the parsed flags serialized. It shares no
//! code with the gateway, so it is also a check that the wire contract is all a client needs.
//!
//! Modules:
//! - [`cli`]: the clap definition (global flags, list of commands).
//! - [`commands`]: one request type per kind of command, the command table, `configure`/`auth`.
//! - [`client`]: the HTTPS client (https only, extra CA, no redirects, error mapping).
//! - [`session`]: connecting and getting a token (given, or by logging in with the API key or
//!   a workload identity).
//! - [`settings`]: flag > environment > profile resolution, with helpful "missing" errors.
//! - [`profile`]: the profile file (`profiles.toml`, mode 0600).
//! - [`input`]: `-` (stdin) and `@FILE` flag values.
//! - [`output`]: JSON printing and the `env` / `credential-process` value formats.
//! - [`error`]: the error type and exit codes.
//! - [`wire`]: serde helpers where a flag's type differs from its wire type.
//! - [`aws_iam`]: the signed sts:GetCallerIdentity of `--access-type aws_iam` logins.

pub mod aws_iam;
pub mod cli;
pub mod client;
pub mod commands;
pub mod error;
pub mod input;
pub mod output;
pub mod profile;
pub mod session;
pub mod settings;
pub mod wire;

use std::io::{Read, Write};

pub use cli::{Cli, Command};
pub use error::CliError;
pub use settings::Environment;

/// The process's standard streams, passed in so that commands can be tested in memory.
pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}

/// Runs a parsed command line.
pub fn run(cli: Cli, env: &Environment, io: &mut Io<'_>) -> Result<(), CliError> {
    let Cli { global, command } = cli;
    match command {
        Command::Configure(args) => commands::configure::configure(&global, args, env, io),
        Command::Auth(args) => commands::configure::auth(&global, args, env, io),
        Command::Api(command) => commands::api::run(&global, *command, env, io),
    }
}
