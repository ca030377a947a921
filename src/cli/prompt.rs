//! Questions asked of a person. The real terminal uses dialoguer; tests script the
//! answers, so the onboarding flow is tested without a terminal.

use std::collections::VecDeque;

pub trait Prompter {
    /// Pick one of `items`; `fuzzy` lets the user type to filter.
    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
        fuzzy: bool,
    ) -> Result<usize, String>;
    /// Hidden input (keys).
    fn secret(&mut self, prompt: &str) -> Result<String, String>;
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, String>;
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Result<String, String>;
    /// A one-line explanation shown before a step.
    fn explain(&mut self, text: &str);
}

/// The real terminal.
pub struct Terminal;

fn io_err(e: dialoguer::Error) -> String {
    format!("the prompt was interrupted: {e}")
}

impl Prompter for Terminal {
    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
        fuzzy: bool,
    ) -> Result<usize, String> {
        if fuzzy {
            dialoguer::FuzzySelect::new()
                .with_prompt(prompt)
                .items(items)
                .default(default)
                .interact()
                .map_err(io_err)
        } else {
            dialoguer::Select::new()
                .with_prompt(prompt)
                .items(items)
                .default(default)
                .interact()
                .map_err(io_err)
        }
    }
    fn secret(&mut self, prompt: &str) -> Result<String, String> {
        dialoguer::Password::new()
            .with_prompt(prompt)
            .interact()
            .map_err(io_err)
    }
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, String> {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(io_err)
    }
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Result<String, String> {
        let mut i = dialoguer::Input::<String>::new().with_prompt(prompt);
        if let Some(d) = default {
            i = i.default(d.to_string());
        }
        i.interact_text().map_err(io_err)
    }
    fn explain(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

/// Answers given in advance, for tests. Selects match an item by its text prefix.
#[derive(Debug, Default)]
pub struct Scripted {
    pub answers: VecDeque<String>,
    /// Every prompt and explanation seen, for assertions.
    pub transcript: Vec<String>,
}

impl Scripted {
    pub fn new(answers: &[&str]) -> Scripted {
        Scripted {
            answers: answers.iter().map(|s| s.to_string()).collect(),
            transcript: Vec::new(),
        }
    }

    fn next(&mut self, prompt: &str) -> Result<String, String> {
        self.transcript.push(prompt.to_string());
        self.answers
            .pop_front()
            .ok_or_else(|| format!("no scripted answer for {prompt:?}"))
    }
}

impl Prompter for Scripted {
    fn select(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
        _fuzzy: bool,
    ) -> Result<usize, String> {
        let a = self.next(prompt)?;
        if a.is_empty() {
            return Ok(default);
        }
        items
            .iter()
            .position(|i| i.starts_with(&a))
            .ok_or_else(|| format!("scripted answer {a:?} matches none of {items:?}"))
    }
    fn secret(&mut self, prompt: &str) -> Result<String, String> {
        self.next(prompt)
    }
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, String> {
        let a = self.next(prompt)?;
        Ok(match a.as_str() {
            "" => default,
            a => a.starts_with('y'),
        })
    }
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Result<String, String> {
        let a = self.next(prompt)?;
        Ok(if a.is_empty() {
            default.unwrap_or_default().to_string()
        } else {
            a
        })
    }
    fn explain(&mut self, text: &str) {
        self.transcript.push(text.to_string());
    }
}
