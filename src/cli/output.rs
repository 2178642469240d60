//! Writing to the terminal: a closed pipe (`cmk-check rules | head`) is the reader's choice, not
//! a failure, and a spinner only when a person is watching.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Writes `text` to stdout; a closed pipe is not an error.
pub fn print(text: &str) -> std::io::Result<()> {
    quietly(std::io::stdout().lock().write_all(text.as_bytes()))
}

/// Writes a line to stderr; nothing can be done if stderr is closed too.
pub fn eprint(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(line.as_bytes())
        .and_then(|()| stderr.write_all(b"\n"));
}

/// A closed pipe (`| head`) is the reader's choice, not a failure.
pub fn quietly(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Appends to a file others also write (GitHub's job summary).
pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
}

/// `$GITHUB_STEP_SUMMARY`, when GitHub Actions sets it.
pub fn step_summary_path() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// A spinner on stderr while Azure is read, only when a person is watching.
pub struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    pub fn start(message: &'static str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new_spinner().with_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Self(Some(bar))
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A progress bar on stderr for the fleet audit, only when a person is watching; it reads the
/// audit's counters ten times a second.
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    pub fn start(progress: std::sync::Arc<cmk_check::source::fleet::Progress>) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Self {
                bar: None,
                stop,
                ticker: None,
            };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        let (shown, stopping) = (bar.clone(), std::sync::Arc::clone(&stop));
        let ticker = std::thread::spawn(move || {
            while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
                shown.set_message(super::audit::describe(&progress));
                shown.tick();
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        });
        Self {
            bar: Some(bar),
            stop,
            ticker: Some(ticker),
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Colours only on a terminal that wants them.
pub fn color(to_file: bool) -> bool {
    !to_file
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Drawn diagnostics, unless asked for prose.
pub fn narrated(flag: bool) -> bool {
    flag || std::env::var_os("NO_GRAPHICS").is_some_and(|v| !v.is_empty() && v != "0")
}

pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}
