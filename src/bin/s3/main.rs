//! `s3`: a command-line tool for S3 built on async-s3's public API (feature `cli`).
//!
//! `cargo install async-s3 --features cli`, then `s3 --help`. It follows the AWS CLI's `s3`
//! commands: `s3://bucket/key` URLs, `--profile`, `--region`, `--endpoint-url`, credentials from
//! the environment and `~/.aws` through the library's default chain. Exit codes: 0 when
//! everything succeeded, 1 when any object failed (each failure is listed on stderr), 2 for a
//! usage error, 130 after Ctrl-C (which cancels the transfers under way).

// A command-line tool talks on stdout and stderr by design.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod client;
mod commands;
mod interrupt;
mod location;
mod output;
mod progress;
mod report;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return args::usage_exit(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let interrupt = interrupt::Interrupt::default();
    let result = runtime.block_on(async {
        tokio::spawn(interrupt.clone().watch());
        commands::run(cli, interrupt.clone()).await
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    report::exit(result, interrupt.fired())
}
