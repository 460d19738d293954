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

/// Formats an HTTP date.
pub(crate) fn format_http_date(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&fmt).unwrap_or_default()
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
}
