//! Commands printed for the user to copy ("fix: clawctl …"): one builder, so every
//! fix line quotes config keys the way `KeyPath` parses them and every word the way
//! a POSIX shell reads it. A printed fix can be pasted and works.

use std::fmt;

use crate::config::keypath::KeyPath;

/// A word as it must be typed into a POSIX shell (quoted only when it needs it).
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A command line: program and arguments, unquoted; `Display` quotes each word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixCommand(Vec<String>);

impl FixCommand {
    /// `clawctl ARGS…`.
    pub fn clawctl(args: &[&str]) -> FixCommand {
        let mut words = vec!["clawctl".to_string()];
        words.extend(args.iter().map(|a| a.to_string()));
        FixCommand(words)
    }

    /// One more argument.
    pub fn arg(mut self, word: impl Into<String>) -> FixCommand {
        self.0.push(word.into());
        self
    }

    /// `clawctl config set KEY VALUE`.
    pub fn config_set(key: &KeyPath, value: &str) -> FixCommand {
        FixCommand::clawctl(&["config", "set"])
            .arg(key.to_string())
            .arg(value)
    }

    /// `clawctl config set KEY --stdin` (secrets never go on the command line).
    pub fn config_set_stdin(key: &KeyPath) -> FixCommand {
        FixCommand::clawctl(&["config", "set"])
            .arg(key.to_string())
            .arg("--stdin")
    }

    /// `clawctl onboard --auth-choice CHOICE`.
    pub fn onboard(auth_choice: &str) -> FixCommand {
        FixCommand::clawctl(&["onboard", "--auth-choice", auth_choice])
    }
}

impl fmt::Display for FixCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&quote(w))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(
            quote("https://api.moonshot.cn/v1"),
            "https://api.moonshot.cn/v1"
        );
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn a_key_that_needs_quoting_survives_the_shell_and_the_key_parser() {
        let key = KeyPath::provider("my.proxy").child("base_url");
        let fix = FixCommand::config_set(&key, "https://llm.example.com/v1");
        assert_eq!(
            fix.to_string(),
            r#"clawctl config set 'models.providers."my.proxy".base_url' https://llm.example.com/v1"#
        );
        // What the shell hands clawctl parses back to the same key.
        let word = fix.0[3].clone();
        assert_eq!(KeyPath::parse(&word).unwrap(), key);
    }

    #[test]
    fn plain_keys_stay_unquoted() {
        let key = KeyPath::provider("moonshot").child("api_key");
        assert_eq!(
            FixCommand::config_set_stdin(&key).to_string(),
            "clawctl config set models.providers.moonshot.api_key --stdin"
        );
    }
}
