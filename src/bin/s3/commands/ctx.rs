//! What every command gets: the client, the transfer options, the outputs.

use crate::interrupt::Interrupt;
use crate::output::Out;
use crate::progress::Bars;
use async_s3::Client;

/// What every command gets: the client, the options, the outputs.
pub(crate) struct Ctx {
    pub(crate) client: Client,
    pub(crate) concurrency: usize,
    pub(crate) part_size: Option<u64>,
    pub(crate) out: Out,
    pub(crate) bars: Bars,
    pub(crate) interrupt: Interrupt,
}

impl Ctx {
    /// A line about an object moved or deleted, unless `--quiet`.
    pub(crate) fn note(&self, line: &str) {
        if !self.out.quiet() {
            self.bars.println(line);
        }
    }
}
