//! A `tracing` capture for log assertions: a small subscriber that records every event (and
//! every span's fields) as strings. Install it with [`LogCapture::install`] on a
//! current-thread runtime, so the client's tasks and the test share the thread-local default;
//! or, in a test binary of its own, with [`LogCapture::install_global`]: the process-wide
//! subscriber (every thread, the blocking pool's included) and the `log` logger (reqwest logs
//! through the `log` facade), both recording into the same capture.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One recorded event.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub(crate) target: String,
    pub(crate) level: Level,
    /// Field names and values, the message included (as `message`), in the order recorded.
    pub(crate) fields: Vec<(String, String)>,
}

impl Captured {
    /// The value of field `name`.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The event's message.
    pub(crate) fn message(&self) -> &str {
        self.field("message").unwrap_or_default()
    }

    /// The whole event as one line, for searching.
    pub(crate) fn text(&self) -> String {
        let mut out = format!("{} {}", self.level, self.target);
        for (n, v) in &self.fields {
            out.push_str(&format!(" {n}={v}"));
        }
        out
    }
}

/// Records events and span fields; cheap to clone (shared storage).
#[derive(Debug, Clone, Default)]
pub(crate) struct LogCapture {
    events: Arc<Mutex<Vec<Captured>>>,
    /// One line per span creation or recording, starting with the span's target.
    spans: Arc<Mutex<Vec<String>>>,
    /// Span targets by id.
    span_targets: Arc<Mutex<HashMap<u64, String>>>,
    next_span: Arc<AtomicU64>,
}

impl LogCapture {
    /// Makes this the thread's default subscriber until the guard is dropped.
    pub(crate) fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(self.clone())
    }

    /// Makes this the process-wide `tracing` subscriber and `log` logger (at TRACE), for
    /// good: call it once per test binary, before anything logs.
    pub(crate) fn install_global(&self) {
        tracing::subscriber::set_global_default(self.clone()).expect("the first global subscriber");
        let bridge: &'static LogBridge = Box::leak(Box::new(LogBridge(self.clone())));
        log::set_logger(bridge).expect("the first logger");
        log::set_max_level(log::LevelFilter::Trace);
    }

    /// Every event so far.
    pub(crate) fn events(&self) -> Vec<Captured> {
        self.events.lock().expect("events").clone()
    }

    /// The events whose target is `target` or below it (`async_s3` takes them all).
    pub(crate) fn events_of(&self, target: &str) -> Vec<Captured> {
        self.events()
            .into_iter()
            .filter(|e| {
                e.target == target
                    || e.target
                        .strip_prefix(target)
                        .is_some_and(|rest| rest.starts_with("::"))
            })
            .collect()
    }

    /// Everything recorded, events and span fields, one line each, except what targets
    /// starting with one of `except` emitted (the in-process S3 server logs the requests it
    /// receives, signatures included: that is the server's business, not the client's).
    pub(crate) fn all_text_except(&self, except: &[&str]) -> Vec<String> {
        let mut lines: Vec<String> = self.events().iter().map(Captured::text).collect();
        lines.extend(self.spans.lock().expect("spans").iter().cloned());
        lines.retain(|l| {
            let target = l.split(' ').nth(1).unwrap_or_default();
            !except.iter().any(|e| target.starts_with(e))
        });
        lines
    }
}

/// Collects fields as strings.
struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl Subscriber for LogCapture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Vec::new();
        span.record(&mut Fields(&mut fields));
        let target = span.metadata().target();
        let line = format!("span {target} {} {fields:?}", span.metadata().name());
        self.spans.lock().expect("spans").push(line);
        let id = self.next_span.fetch_add(1, Ordering::Relaxed) + 1;
        self.span_targets
            .lock()
            .expect("span targets")
            .insert(id, target.to_owned());
        Id::from_u64(id)
    }

    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut fields = Vec::new();
        values.record(&mut Fields(&mut fields));
        let target = self
            .span_targets
            .lock()
            .expect("span targets")
            .get(&id.into_u64())
            .cloned()
            .unwrap_or_default();
        self.spans
            .lock()
            .expect("spans")
            .push(format!("span {target} record {fields:?}"));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.events.lock().expect("events").push(Captured {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Records `log` records as events: target, level and the formatted message (key-values need
/// a feature of `log` nothing else in the tree turns on; reqwest sends none).
struct LogBridge(LogCapture);

impl log::Log for LogBridge {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = match record.level() {
            log::Level::Error => Level::ERROR,
            log::Level::Warn => Level::WARN,
            log::Level::Info => Level::INFO,
            log::Level::Debug => Level::DEBUG,
            log::Level::Trace => Level::TRACE,
        };
        let fields = vec![("message".to_owned(), record.args().to_string())];
        self.0.events.lock().expect("events").push(Captured {
            target: record.target().to_owned(),
            level,
            fields,
        });
    }

    fn flush(&self) {}
}
