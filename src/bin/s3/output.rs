//! What the commands print: lines on stdout (a closed pipe ends the output quietly), dates,
//! sizes and JSON.

use std::io::Write;
use std::time::SystemTime;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Standard output for data (listings, metadata, URLs) and notes (one line per object moved).
#[derive(Debug)]
pub(crate) struct Out {
    quiet: bool,
}

impl Out {
    pub(crate) fn new(quiet: bool) -> Self {
        Self { quiet }
    }

    /// Whether notes are off (`--quiet`).
    pub(crate) fn quiet(&self) -> bool {
        self.quiet
    }

    /// A line of data, printed even with `--quiet`.
    pub(crate) fn data(&self, line: &str) {
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{line}").is_err() {
            // The reader went away (`s3 ls | head`): nothing more to say.
            std::process::exit(0);
        }
    }
}

/// `2024-05-01 12:30:00` (UTC), or 19 spaces for no date.
pub(crate) fn date(t: Option<SystemTime>) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.map(OffsetDateTime::from)
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| " ".repeat(19))
}

/// RFC 3339 (UTC) for JSON, `null` for no date.
pub(crate) fn date_json(t: Option<SystemTime>) -> serde_json::Value {
    t.map(OffsetDateTime::from)
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(serde_json::Value::Null, serde_json::Value::String)
}

/// `512 B`, `1.5 KiB`, `3.2 GiB`.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    let mut value = bytes as f64;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(40 << 20), "40.0 MiB");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_566_600);
        assert_eq!(date(Some(t)), "2024-05-01 12:30:00");
        assert_eq!(
            date_json(Some(t)),
            serde_json::json!("2024-05-01T12:30:00Z")
        );
        assert_eq!(date(None).len(), 19);
    }
}
