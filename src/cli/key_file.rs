//! `cmk-check key-file`: a key file checked before import, with the password from the
//! environment or a terminal, never from a flag.

use std::io::IsTerminal;
use std::process::ExitCode;

use cmk_check::engine;
use cmk_check::source::key_file::{self, KeyFileError, Password};
use miette::Report as Problem;

use super::args::KeyFileArgs;
use super::CliError;

pub fn key_file(args: &KeyFileArgs) -> Result<ExitCode, Problem> {
    let cwd = std::env::current_dir().map_err(CliError::WorkingDirectory)?;
    // Whether clusters must use a customer-managed key is no question for a key file.
    let options = cmk_check::config::resolve(&args.gate.overrides(&args.report, false), &cwd)?;
    let path = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).map_err(|source| CliError::Read {
        path: args.file.clone(),
        source,
    })?;
    let mut password = Source {
        env: args.password_env.clone(),
        path: path.clone(),
    };
    let file = key_file::read(&path, &bytes, &mut password, args.vault.as_deref())?;
    let report = engine::run_key_file(&file, &options);
    super::fix_script(&args.report, &report.findings)?;
    super::emit(
        std::slice::from_ref(&report),
        &report,
        &args.report,
        args.gate.fail_on.into(),
    )
}

/// The password of `--password-env`, or of a prompt when a person is at a terminal.
struct Source {
    env: Option<String>,
    path: String,
}

impl Password for Source {
    fn get(&mut self) -> Result<Option<String>, KeyFileError> {
        let unavailable = |reason: String| KeyFileError::PasswordUnavailable {
            path: self.path.clone(),
            reason,
        };
        if let Some(var) = &self.env {
            return std::env::var(var).map(Some).map_err(|_| {
                unavailable(format!(
                    "the environment variable `{var}` of `--password-env` is not set"
                ))
            });
        }
        if !std::io::stdin().is_terminal() {
            return Ok(None);
        }
        rpassword::prompt_password(format!("password of `{}`: ", self.path))
            .map(Some)
            .map_err(|e| unavailable(format!("the terminal could not be read ({e})")))
    }
}
