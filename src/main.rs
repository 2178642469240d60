//! The binary: parses the command line, runs the command, and turns errors into a diagnostic
//! on stderr and the exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::args::Cli::parse();
    // Diagnostics come pre-wrapped where it matters; words are never broken, since a path or a
    // command split across lines would not copy. Setting the hook fails only when one is
    // already installed, and nothing else installs one.
    miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .break_words(false)
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .build(),
        )
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
