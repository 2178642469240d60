//! `cmk-check completions` and `cmk-check man`: both made from clap's own description of the
//! command line, so they name every subcommand and flag there is.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;
use miette::Report as Problem;

use super::args::Cli;
use super::{output, CliError};

/// The completion script for `shell`, on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Problem> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "cmk-check", &mut script);
    output::quietly(std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        &script,
    ))
    .map_err(CliError::Output)?;
    Ok(ExitCode::SUCCESS)
}

/// The man pages: into `dir`, one a subcommand (`cmk-check.1`, `cmk-check-check.1`, …), or
/// the top page on stdout.
pub fn man(dir: Option<&Path>) -> Result<ExitCode, Problem> {
    let command = Cli::command();
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(command, dir))
                .map_err(|source| CliError::Write {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        None => {
            // Built as `generate_to` builds it: the same page, without a page for `help`.
            let mut command = command.disable_help_subcommand(true);
            command.build();
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(CliError::Output)?;
            output::quietly(std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                &page,
            ))
            .map_err(CliError::Output)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
