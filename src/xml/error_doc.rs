//! The S3 `<Error>` document, which may arrive with any status, even `200`.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::reader::{XmlReader, non_empty};
use crate::types::S3ErrorBody;

/// Parses an S3 `<Error><Code/><Message/><RequestId/><HostId/></Error>` document.
///
/// Returns `None` when the body is not such a document: empty, HTML, another root, malformed
/// or hostile XML. Any amount of leading whitespace is accepted (S3 may stream spaces before
/// an error in a `200` response). Other children (`Resource`, `Key`, ...) are ignored.
pub(crate) fn parse_error(body: &[u8]) -> Option<S3ErrorBody> {
    let (mut r, root) = XmlReader::open_root(body, "Error").ok()?;
    let mut out = S3ErrorBody::default();
    while let Some(child) = r.next_child(&root).ok()? {
        let slot = match child.name() {
            b"Code" => &mut out.code,
            b"Message" => &mut out.message,
            b"RequestId" => &mut out.request_id,
            b"HostId" => &mut out.host_id,
            _ => continue,
        };
        *slot = non_empty(r.text(&child).ok()?);
    }
    r.finish().ok()?;
    Some(out)
}

/// Whether the body's root element is `Error`, after whitespace, a declaration or comments.
///
/// Cheap: reads only up to the root's start tag and does not validate the rest of the body
/// (so it can be `true` where [`parse_error`] returns `None` for a broken document).
pub(crate) fn is_error_document(body: &[u8]) -> bool {
    let mut reader = Reader::from_reader(body);
    loop {
        match reader.read_event() {
            Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_)) => {}
            Ok(Event::Text(t)) if t.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) => {}
            Ok(Event::Start(s) | Event::Empty(s)) => {
                return s.local_name().into_inner() == b"Error";
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    const NO_SUCH_KEY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
  <HostId>eftixk72aD6Ap51TnqcoF8eFidJG9Z/2mkiDFu8yU9AS1ed4OpIszj7UDNEHGran</HostId>
</Error>"#;

    #[test]
    fn parses_error_document() {
        let e = parse_error(NO_SUCH_KEY.as_bytes()).unwrap();
        assert_eq!(e.code.as_deref(), Some("NoSuchKey"));
        assert_eq!(
            e.message.as_deref(),
            Some("The resource you requested does not exist")
        );
        assert_eq!(e.request_id.as_deref(), Some("4442587FB7D0A2F9"));
        assert!(e.host_id.as_deref().unwrap().starts_with("eftixk72"));
        assert!(is_error_document(NO_SUCH_KEY.as_bytes()));
    }

    #[test]
    fn error_after_streamed_whitespace_in_200_body() {
        let body = format!(
            "{}{}",
            " \n".repeat(100_000),
            "<Error><Code>InternalError</Code><Message>We encountered an internal error. \
             Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId>\
             <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>"
        );
        assert!(is_error_document(body.as_bytes()));
        let e = parse_error(body.as_bytes()).unwrap();
        assert_eq!(e.code.as_deref(), Some("InternalError"));
        assert_eq!(
            e.request_id.as_deref(),
            Some("656c76696e6727732072657175657374")
        );
    }

    #[test]
    fn partial_error_document() {
        let e = parse_error(b"<Error><Code>SlowDown</Code><Message/></Error>").unwrap();
        assert_eq!(e.code.as_deref(), Some("SlowDown"));
        assert_eq!(e.message, None);
        assert_eq!(e.request_id, None);
    }

    #[test]
    fn not_error_documents() {
        let bodies: [&[u8]; 9] = [
            b"",
            b"   ",
            b"<html><body>502 Bad Gateway</body></html>",
            b"<!DOCTYPE html><html></html>",
            b"Service Unavailable",
            b"<CopyObjectResult><ETag>x</ETag></CopyObjectResult>",
            b"<Error><Code>Trunc",
            b"\xff\xfe<Error/>",
            b"{\"error\": true}",
        ];
        for body in bodies {
            assert_eq!(parse_error(body), None, "{body:?}");
        }
        assert!(!is_error_document(b""));
        assert!(!is_error_document(b"<html>"));
        assert!(!is_error_document(b"junk<Error>"));
        assert!(!is_error_document(b"<!DOCTYPE Error><Error/>"));
        assert!(!is_error_document(b"<ErrorX/>"));
        assert!(!is_error_document(b"<CompleteMultipartUploadResult>"));
    }

    #[test]
    fn cheap_detection_accepts_prolog_and_prefix() {
        assert!(is_error_document(
            b"<?xml version=\"1.0\"?>\n<!-- c --><Error/>"
        ));
        assert!(is_error_document(b"<s3:Error xmlns:s3=\"urn:x\">"));
        assert!(is_error_document(b"\t\r\n<Error>truncated"));
    }
}
