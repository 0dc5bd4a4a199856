//! The `mayfly` binary: parse, run, turn an error into a message on stderr and an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use mayfly_cli::{Cli, Environment, Io};

fn main() -> ExitCode {
    // Usage errors exit here with code 2, and --help / --version with 0 (clap's convention).
    let cli = Cli::parse();

    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut stdin = stdin.lock();
    let mut stdout = stdout.lock();
    let mut stderr = std::io::stderr();
    let result = mayfly_cli::run(
        cli,
        &Environment::from_process(),
        &mut Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        },
    );
    let flushed = stdout.flush();

    match result.and(flushed.map_err(mayfly_cli::CliError::Output)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
        }
    }
}
