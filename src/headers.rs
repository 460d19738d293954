//! Reading HTTP headers: values as text, the request id, HTTP dates. A leaf: imports nothing
//! of the crate.

use http::HeaderMap;
use std::time::SystemTime;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// The value of header `name`, when it is present and visible ASCII.
pub(crate) fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// The value of header `name`, owned.
pub(crate) fn header_string(h: &HeaderMap, name: &str) -> Option<String> {
    header(h, name).map(str::to_owned)
}

/// The `x-amz-request-id` of an answer.
pub(crate) fn request_id(h: &HeaderMap) -> Option<String> {
    header_string(h, "x-amz-request-id")
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn http_date(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s, &Rfc2822)
        .ok()
        .map(SystemTime::from)
}

/// Formats an HTTP date. Times before 1970 or after year 9999 are written as those bounds
/// (never a panic, unlike `OffsetDateTime::from`).
pub(crate) fn format_http_date(t: SystemTime) -> String {
    let t = clamped_utc(t);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&fmt).unwrap_or_default()
}

/// The last second that the date formats can write: 9999-12-31T23:59:59Z.
pub(crate) const LATEST_UNIX_SECS: u64 = 253_402_300_799;

/// `t` in UTC at whole seconds, clamped to 1970-01-01 ..= 9999-12-31T23:59:59; never panics.
pub(crate) fn clamped_utc(t: SystemTime) -> OffsetDateTime {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(LATEST_UNIX_SECS);
    // In range by the clamp, so the conversion cannot fail.
    OffsetDateTime::from_unix_timestamp(secs as i64).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        let t = http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 784_111_777);
        assert_eq!(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date("yesterday"), None);
    }

    #[test]
    fn dates_outside_1970_to_9999_are_clamped_not_a_panic() {
        use std::time::Duration;
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(format_http_date(far), "Fri, 31 Dec 9999 23:59:59 GMT");
        let early = SystemTime::UNIX_EPOCH - Duration::from_secs(100_000_000_000);
        assert_eq!(format_http_date(early), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
