//! The commands, what they report, and the exit code.

mod bucket;
mod cp;
mod ls;
mod object;
mod rm;
mod sync;
mod walk;

use crate::args::{Cli, Command};
use crate::output::Out;
use crate::progress::Bars;
use async_s3::{Client, Error, ErrorKind};
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

/// What every command gets: the client, the options, the outputs.
pub(crate) struct Ctx {
    pub(crate) client: Client,
    pub(crate) concurrency: usize,
    pub(crate) part_size: Option<u64>,
    pub(crate) out: Out,
    pub(crate) bars: Bars,
}

impl Ctx {
    /// A line about an object moved or deleted, unless `--quiet`.
    pub(crate) fn note(&self, line: &str) {
        if !self.out.quiet() {
            self.bars.println(line);
        }
    }
}

/// Runs the command line.
pub(crate) async fn run(cli: Cli) -> Result<Report, Failure> {
    let client = crate::client::build(&cli.global).await?;
    let out = Out::new(cli.global.quiet);
    let ctx = Ctx {
        client,
        concurrency: cli.global.concurrency,
        part_size: cli.global.part_size,
        bars: Bars::new(cli.global.quiet),
        out,
    };
    match cli.command {
        Command::Ls(a) => ls::run(&ctx, a).await,
        Command::Cp(a) => cp::run(&ctx, a, false).await,
        Command::Mv(a) => cp::run(&ctx, a, true).await,
        Command::Rm(a) => rm::run(&ctx, a).await,
        Command::Mb(a) => bucket::make(&ctx, &a.url).await,
        Command::Rb(a) => bucket::remove(&ctx, &a.url, a.force).await,
        Command::Cat(a) => object::cat(&ctx, &a.url).await,
        Command::Stat(a) => object::stat(&ctx, &a.url, a.json).await,
        Command::Presign(a) => object::presign(&ctx, a).await,
        Command::Sync(a) => sync::run(&ctx, a).await,
    }
}

/// Prints what failed and turns the result into the exit code.
pub(crate) fn exit(result: Result<Report, Failure>) -> ExitCode {
    match result {
        Ok(report) if report.failed.is_empty() => ExitCode::SUCCESS,
        Ok(report) => {
            for (what, why) in &report.failed {
                eprintln!("failed: {what}: {why}");
            }
            eprintln!("s3: {} failed", plural(report.failed.len(), "object"));
            ExitCode::from(1)
        }
        Err(Failure::Usage(m)) => {
            eprintln!("s3: {m} (see s3 --help)");
            ExitCode::from(2)
        }
        Err(Failure::Failed(m)) => {
            eprintln!("s3: {m}");
            ExitCode::from(1)
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
