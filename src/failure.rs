//! A command that could not do its job: a message worded for the user and an exit
//! code (1 error, 2 usage).

/// Exit status of a command that ran: 0 ok, 1 findings/invalid.
pub type Outcome = Result<i32, Failure>;

#[derive(Debug)]
pub struct Failure {
    pub message: String,
    /// 1: error; 2: usage.
    pub code: i32,
}

impl Failure {
    pub fn error(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

impl From<crate::config::diagnostics::Diagnostic> for Failure {
    fn from(d: crate::config::diagnostics::Diagnostic) -> Failure {
        let code = if d.code == "usage" { 2 } else { 1 };
        let mut message = format!("error: {}", d.message);
        if let Some(h) = &d.help {
            message.push_str(&format!("\n  help: {h}"));
        }
        Failure { message, code }
    }
}

impl From<crate::views::ViewsError> for Failure {
    fn from(e: crate::views::ViewsError) -> Failure {
        match e {
            crate::views::ViewsError::Load(d) => Failure::from(*d),
            other => Failure::error(other.to_string()),
        }
    }
}
