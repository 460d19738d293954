//! Ctrl-C: the first cancels every transfer under way through its engine's cancel handle (a
//! multipart upload or copy is then aborted, a download's temp file removed) and lets the
//! command finish; a second exits at once.

use async_s3::CancelHandle;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// The transfers Ctrl-C cancels, and whether it came.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interrupt {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    fired: AtomicBool,
    handles: Mutex<Vec<CancelHandle>>,
}

impl Interrupt {
    /// Whether Ctrl-C came.
    pub(crate) fn fired(&self) -> bool {
        self.inner.fired.load(Ordering::SeqCst)
    }

    /// Registers a transfer about to start; it is cancelled at once if Ctrl-C already came.
    pub(crate) fn track(&self, handle: CancelHandle) {
        let mut handles = self.inner.handles.lock().unwrap_or_else(|e| e.into_inner());
        if self.fired() {
            handle.cancel();
        }
        handles.retain(|h| !h.is_cancelled());
        handles.push(handle);
    }

    fn fire(&self) {
        let handles = self.inner.handles.lock().unwrap_or_else(|e| e.into_inner());
        self.inner.fired.store(true, Ordering::SeqCst);
        for h in handles.iter() {
            h.cancel();
        }
    }

    /// Waits for Ctrl-C: the first cancels the transfers, the second exits.
    pub(crate) async fn watch(self) {
        if tokio::signal::ctrl_c().await.is_err() {
            return; // no signal handling here: Ctrl-C keeps its default effect
        }
        eprintln!("s3: interrupted: cancelling (Ctrl-C again to quit at once)");
        self.fire();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    }
}
