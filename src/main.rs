//! The binary: parses the command line, runs the command, and turns errors into a diagnostic
//! on stderr and the exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::args::Cli::parse();
    // Errors are not wrapped: a path or a command split across lines would not copy, and the
    // terminal folds a long line by itself. Setting the hook fails only when one is already
    // installed, and nothing else installs one.
    miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }))
    .ok();
    match cli::run(cli.command) {
        Ok(code) => code,
        Err(problem) => {
            cli::eprint(&format!("{problem:?}"));
            ExitCode::from(cli::EXIT_CANNOT_RUN)
        }
    }
}
