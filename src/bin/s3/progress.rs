//! Progress bars (indicatif): one per large transfer plus a total, drawn on stderr, hidden
//! when stdout is not a terminal or with `--quiet`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Transfers at least this large get a bar of their own.
const OWN_BAR_FROM: u64 = 8 << 20;

/// The bars of one command (all hidden when off).
#[derive(Debug, Clone)]
pub(crate) struct Bars {
    multi: Option<MultiProgress>,
}

impl Bars {
    pub(crate) fn new(quiet: bool) -> Self {
        let on = !quiet && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        Self {
            multi: on.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    /// Prints a line above the bars (or plainly when there are none).
    pub(crate) fn println(&self, line: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(line);
            }
            None => crate::output::Out::new(false).data(line),
        }
    }

    /// The total bar of a command moving `bytes` in all.
    pub(crate) fn total(&self, bytes: u64) -> Tracker {
        Tracker {
            bar: self.bar(bytes, "total"),
            total: None,
            seen: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The tracker of one transfer of `size` bytes, adding to `total` when there is one.
    pub(crate) fn transfer(&self, name: &str, size: u64, total: Option<&Tracker>) -> Tracker {
        let bar = if size >= OWN_BAR_FROM || total.is_none() {
            self.bar(size, name)
        } else {
            None
        };
        Tracker {
            bar,
            total: total.and_then(|t| t.bar.clone()),
            seen: Arc::new(AtomicU64::new(0)),
        }
    }

    fn bar(&self, len: u64, name: &str) -> Option<ProgressBar> {
        let multi = self.multi.as_ref()?;
        let style = ProgressStyle::with_template(
            "{msg:30!} {bar:30} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = multi.add(ProgressBar::new(len).with_style(style));
        bar.set_message(name.to_owned());
        Some(bar)
    }
}

/// Progress of one transfer: its own bar (if any) and its share of the total.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    bar: Option<ProgressBar>,
    total: Option<ProgressBar>,
    seen: Arc<AtomicU64>,
}

impl Tracker {
    /// The callback for the engines' `on_progress`.
    pub(crate) fn callback(&self) -> impl Fn(async_s3::Progress) + Send + Sync + 'static {
        let this = self.clone();
        move |p| this.at(p.transferred, p.total)
    }

    /// `transferred` bytes of `total` done so far (monotonic).
    pub(crate) fn at(&self, transferred: u64, total: Option<u64>) {
        let before = self.seen.fetch_max(transferred, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            if let Some(total) = total.filter(|t| bar.length() != Some(*t)) {
                bar.set_length(total);
            }
            bar.set_position(transferred.max(before));
        }
        if let Some(total) = &self.total {
            total.inc(transferred.saturating_sub(before));
        }
    }

    /// The transfer ended: its bar goes away.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
