//! Object Lock documents: `<Retention>` (mode and retain-until date) and `<LegalHold>`
//! (status), read from Get* answers and written as Put* bodies.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::XmlError;
use super::reader::{XmlReader, non_empty, parse_date};
use super::write::{S3_NAMESPACE, escape_into};

/// Parses a GetObjectRetention `<Retention>` into its `Mode` and `RetainUntilDate`.
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `InvalidValue("RetainUntilDate")` for a bad date; the
/// structural errors.
pub(crate) fn parse_retention(
    body: &[u8],
) -> Result<(Option<String>, Option<SystemTime>), XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "Retention")?;
    let (mut mode, mut until) = (None, None);
    while let Some(c) = r.next_child(&root)? {
        match c.name() {
            b"Mode" => mode = non_empty(r.text(&c)?),
            b"RetainUntilDate" => until = Some(parse_date(&r.text(&c)?, "RetainUntilDate")?),
            _ => {}
        }
    }
    r.finish()?;
    Ok((mode, until))
}

/// Builds a PutObjectRetention `<Retention>` body. The date is written in UTC (RFC 3339,
/// whole seconds), rounded up to the next second so the lock never ends before `until`.
///
/// # Errors
///
/// `InvalidValue("RetainUntilDate")` for a date that cannot be written (before year 0 or
/// after 9999).
pub(crate) fn write_retention(mode: &str, until: SystemTime) -> Result<String, XmlError> {
    let bad = XmlError::InvalidValue("RetainUntilDate");
    // Seconds since the epoch, rounded up; computed without `OffsetDateTime::from`, which
    // panics out of its range.
    let secs = match until.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs())
            .ok()
            .and_then(|s| s.checked_add(i64::from(d.subsec_nanos() > 0))),
        Err(e) => i64::try_from(e.duration().as_secs()).ok().map(|s| -s),
    };
    let date = secs
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|d| d.format(&Rfc3339).ok())
        .ok_or(bad)?;
    let mut out = String::with_capacity(160);
    out.push_str("<Retention xmlns=\"");
    out.push_str(S3_NAMESPACE);
    out.push_str("\"><Mode>");
    escape_into(&mut out, mode);
    out.push_str("</Mode><RetainUntilDate>");
    out.push_str(&date);
    out.push_str("</RetainUntilDate></Retention>");
    Ok(out)
}

/// The PutObjectRetention body that removes a retention: an empty `<Retention>`.
pub(crate) fn write_empty_retention() -> String {
    format!("<Retention xmlns=\"{S3_NAMESPACE}\"/>")
}

/// Parses a GetObjectLegalHold `<LegalHold>` into its `Status` (`ON` or `OFF`).
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `MissingElement("Status")`; the structural errors.
pub(crate) fn parse_legal_hold(body: &[u8]) -> Result<String, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "LegalHold")?;
    let mut status = None;
    while let Some(c) = r.next_child(&root)? {
        if c.name() == b"Status" {
            status = non_empty(r.text(&c)?);
        }
    }
    r.finish()?;
    status.ok_or(XmlError::MissingElement("Status"))
}

/// Builds a PutObjectLegalHold `<LegalHold>` body.
pub(crate) fn write_legal_hold(on: bool) -> String {
    format!(
        "<LegalHold xmlns=\"{S3_NAMESPACE}\"><Status>{}</Status></LegalHold>",
        if on { "ON" } else { "OFF" }
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retention_round_trip_and_documented_example() {
        // The GetObjectRetention reference's example answer.
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Mode>GOVERNANCE</Mode>
  <RetainUntilDate>2020-12-01T00:00:00.000Z</RetainUntilDate>
</Retention>"#;
        let (mode, until) = parse_retention(doc.as_bytes()).unwrap();
        assert_eq!(mode.as_deref(), Some("GOVERNANCE"));
        let t = UNIX_EPOCH + Duration::from_secs(1_606_780_800);
        assert_eq!(until, Some(t));
        // Whole seconds are written as they are; a fraction rounds up.
        let body = write_retention("COMPLIANCE", t - Duration::from_millis(500)).unwrap();
        assert_eq!(
            body,
            "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode>\
             <RetainUntilDate>2020-12-01T00:00:00Z</RetainUntilDate></Retention>"
        );
        assert_eq!(write_retention("COMPLIANCE", t).unwrap(), body);
        assert_eq!(
            parse_retention(body.as_bytes()).unwrap(),
            (Some("COMPLIANCE".to_owned()), Some(t))
        );
    }

    #[test]
    fn retention_dates_out_of_range_are_errors_not_panics() {
        let last = UNIX_EPOCH + Duration::from_secs(253_402_300_799); // 9999-12-31T23:59:59Z
        assert!(write_retention("GOVERNANCE", last).is_ok());
        let before_1970 = UNIX_EPOCH - Duration::from_secs(86_400);
        assert!(
            write_retention("GOVERNANCE", before_1970)
                .unwrap()
                .contains("1969-12-31T00:00:00Z")
        );
        for bad in [
            last + Duration::from_millis(1),
            UNIX_EPOCH + Duration::from_secs(400_000_000_000),
            UNIX_EPOCH - Duration::from_secs(70_000_000_000),
        ] {
            assert!(matches!(
                write_retention("GOVERNANCE", bad),
                Err(XmlError::InvalidValue("RetainUntilDate"))
            ));
        }
    }

    #[test]
    fn legal_hold() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>"#;
        assert_eq!(parse_legal_hold(doc.as_bytes()).unwrap(), "ON");
        assert_eq!(
            parse_legal_hold(write_legal_hold(false).as_bytes()).unwrap(),
            "OFF"
        );
        assert!(matches!(
            parse_legal_hold(b"<LegalHold/>"),
            Err(XmlError::MissingElement("Status"))
        ));
    }
}
