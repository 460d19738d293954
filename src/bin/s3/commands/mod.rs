//! The commands: one file per job, and the dispatch.

mod bucket;
mod cp;
mod ctx;
mod ls;
mod object;
mod rm;
mod sync;
mod walk;

use crate::args::{Cli, Command};
use crate::interrupt::Interrupt;
use crate::output::Out;
use crate::progress::Bars;
use crate::report::{Failure, Report};
use ctx::Ctx;

/// Runs the command line.
pub(crate) async fn run(cli: Cli, interrupt: Interrupt) -> Result<Report, Failure> {
    let client = crate::client::build(&cli.global).await?;
    let out = Out::new(cli.global.quiet);
    let ctx = Ctx {
        client,
        concurrency: cli.global.concurrency,
        part_size: cli.global.part_size,
        bars: Bars::new(cli.global.quiet),
        out,
        interrupt,
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
