//! A spinner line on stderr for slow steps (probes, waiting for a restart), drawn only
//! when stderr is a terminal: piped or redirected output gets no control sequences.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner, or nothing when stderr is not a terminal. Dropping it clears the line.
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// Start spinning with `message` (when stderr is a terminal).
    pub fn start(message: impl Into<String>) -> Spinner {
        if !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(message.into());
        pb.enable_steady_tick(Duration::from_millis(100));
        Spinner(Some(pb))
    }

    pub fn set_message(&self, message: impl Into<String>) {
        if let Some(pb) = &self.0 {
            pb.set_message(message.into());
        }
    }

    /// Run `f` (which prints) with the spinner line hidden, so lines never interleave.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(pb) => pb.suspend(f),
            None => f(),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
