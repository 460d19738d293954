//! What a command reports (the objects that failed) or why it stopped, and the exit code.

use crate::interrupt::EXIT_INTERRUPTED;
use async_s3::{Error, ErrorKind};
use std::process::ExitCode;

/// Why a command stopped: bad usage (exit 2) or an error (exit 1).
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line asks for something that cannot be done as asked.
    Usage(String),
    /// An error that is not about one object of many (one object's error is in [`Report`]).
    Failed(String),
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    /// A library error; bad input is a usage error.
    pub(crate) fn from_error(e: &Error) -> Self {
        if e.kind() == ErrorKind::InvalidInput {
            Self::Usage(e.to_string())
        } else {
            Self::Failed(e.to_string())
        }
    }

    /// A library error about `what` (an object or a file), named in the message.
    pub(crate) fn about(what: impl std::fmt::Display, e: &Error) -> Self {
        Self::Failed(format!("{what}: {e}"))
    }
}

/// What a command did: the objects that failed, each with its reason.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) failed: Vec<(String, String)>,
}

impl Report {
    pub(crate) fn fail(&mut self, what: impl std::fmt::Display, why: impl std::fmt::Display) {
        self.failed.push((what.to_string(), why.to_string()));
    }
}

/// Prints what failed and turns the result into the exit code.
pub(crate) fn exit(result: Result<Report, Failure>, interrupted: bool) -> ExitCode {
    let code = |c: u8| ExitCode::from(if interrupted { EXIT_INTERRUPTED } else { c });
    match result {
        Ok(report) if report.failed.is_empty() => code(0),
        Ok(report) => {
            for (what, why) in &report.failed {
                eprintln!("failed: {what}: {why}");
            }
            eprintln!("s3: {} failed", plural(report.failed.len(), "object"));
            code(1)
        }
        Err(Failure::Usage(m)) => {
            eprintln!("s3: {m} (see s3 --help)");
            ExitCode::from(2)
        }
        Err(Failure::Failed(m)) => {
            eprintln!("s3: {m}");
            code(1)
        }
    }
}

/// `1 object`, `3 objects`.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
