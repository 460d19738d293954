//! Small result documents: DeleteObjects, CopyObject / UploadPartCopy, GetBucketLocation.

use std::time::SystemTime;

use super::error::XmlError;
use super::reader::{Elem, XmlReader, non_empty, parse_bool, parse_date, unexpected_root};
use crate::types::{DeleteObjectError, DeletedObject};

/// What CopyObject (`<CopyObjectResult>`) or UploadPartCopy (`<CopyPartResult>`) reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct CopyResult {
    /// The entity tag of the new object or part, quotes included.
    pub(crate) etag: Option<String>,
    /// When the copy was written.
    pub(crate) last_modified: Option<SystemTime>,
    // issue 11 part B
    /// The part's or object's checksum (`ChecksumCRC32` etc.), when reported.
    pub(crate) checksum: Option<(crate::checksum::ChecksumAlgorithm, String)>,
}

/// Parses a DeleteObjects `<DeleteResult>` into the deleted keys and the per-key errors, each
/// in the server's order (the two kinds may be interleaved).
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `MissingElement("Key")` for an entry without a key,
/// `MissingElement("Code")` for an `Error` entry without a code; the structural errors.
pub(crate) fn parse_delete_result(
    body: &[u8],
) -> Result<(Vec<DeletedObject>, Vec<DeleteObjectError>), XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "DeleteResult")?;
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"Deleted" => {
                let entry = parse_entry(&mut r, &child)?;
                deleted.push(DeletedObject {
                    key: entry.key,
                    version_id: entry.version_id,
                    delete_marker: entry.delete_marker,
                    delete_marker_version_id: entry.delete_marker_version_id,
                });
            }
            b"Error" => {
                let entry = parse_entry(&mut r, &child)?;
                errors.push(DeleteObjectError {
                    key: entry.key,
                    version_id: entry.version_id,
                    code: entry.code.ok_or(XmlError::MissingElement("Code"))?,
                    message: entry.message.unwrap_or_default(),
                });
            }
            _ => {}
        }
    }
    r.finish()?;
    Ok((deleted, errors))
}

/// The fields of a `<Deleted>` or `<Error>` entry of a DeleteResult.
struct Entry {
    /// `Key` (required).
    key: String,
    /// `VersionId`.
    version_id: Option<String>,
    /// `Code` (only in `Error`).
    code: Option<String>,
    /// `Message` (only in `Error`).
    message: Option<String>,
    /// `DeleteMarker` (only in `Deleted`).
    delete_marker: bool,
    /// `DeleteMarkerVersionId` (only in `Deleted`).
    delete_marker_version_id: Option<String>,
}

/// Parses one `<Deleted>` or `<Error>` entry.
fn parse_entry<'a>(r: &mut XmlReader<'a>, elem: &Elem<'a>) -> Result<Entry, XmlError> {
    let mut key = None;
    let mut version_id = None;
    let mut code = None;
    let mut message = None;
    let (mut delete_marker, mut delete_marker_version_id) = (false, None);
    while let Some(c) = r.next_child(elem)? {
        match c.name() {
            b"Key" => key = Some(r.text(&c)?.into_owned()),
            b"VersionId" => version_id = non_empty(r.text(&c)?),
            b"Code" => code = non_empty(r.text(&c)?),
            b"Message" => message = Some(r.text(&c)?.into_owned()),
            b"DeleteMarker" => delete_marker = parse_bool(&r.text(&c)?, "DeleteMarker")?,
            b"DeleteMarkerVersionId" => delete_marker_version_id = non_empty(r.text(&c)?),
            _ => {}
        }
    }
    Ok(Entry {
        key: key.ok_or(XmlError::MissingElement("Key"))?,
        version_id,
        code,
        message,
        delete_marker,
        delete_marker_version_id,
    })
}

/// Parses a `<CopyObjectResult>` or `<CopyPartResult>`.
///
/// CopyObject answers `200` even when the copy failed, with an `<Error>` body: that root (and
/// any other) is `UnexpectedRoot`, never a success.
///
/// # Errors
///
/// `UnexpectedRoot`, `InvalidValue("LastModified")`, and the structural errors.
pub(crate) fn parse_copy_object_result(body: &[u8]) -> Result<CopyResult, XmlError> {
    let (mut r, root) = XmlReader::open(body)?;
    if !matches!(root.name(), b"CopyObjectResult" | b"CopyPartResult") {
        return Err(unexpected_root("CopyObjectResult", root.name()));
    }
    let mut out = CopyResult::default();
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"ETag" => out.etag = non_empty(r.text(&child)?),
            b"LastModified" => {
                out.last_modified = Some(parse_date(&r.text(&child)?, "LastModified")?);
            }
            name => {
                if let Some(alg) = crate::checksum::ChecksumAlgorithm::from_xml_element(name)
                    && let Some(v) = non_empty(r.text(&child)?)
                    && out.checksum.is_none()
                {
                    out.checksum = Some((alg, v));
                }
            }
        }
    }
    r.finish()?;
    Ok(out)
}

/// Parses a GetBucketLocation `<LocationConstraint>`; empty text (us-east-1) is `None`.
///
/// The value is returned as sent (legacy stores may say `EU`); mapping it is the caller's job.
///
/// # Errors
///
/// `UnexpectedRoot` for another root, and the structural errors.
pub(crate) fn parse_location_constraint(body: &[u8]) -> Result<Option<String>, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "LocationConstraint")?;
    let text = r.text(&root)?;
    let trimmed = text.trim();
    let location = (!trimmed.is_empty()).then(|| trimmed.to_owned());
    r.finish()?;
    Ok(location)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn delete_result_interleaved() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>sample1.txt</Key></Deleted>
  <Error>
    <Key>sample2.txt</Key>
    <Code>AccessDenied</Code>
    <Message>Access Denied</Message>
  </Error>
  <Deleted>
    <Key>SampleDocument.txt</Key>
    <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>
    <DeleteMarker>true</DeleteMarker>
  </Deleted>
  <Error><VersionId>v1</VersionId><Code>NoSuchVersion</Code><Key>a &amp; b</Key></Error>
</DeleteResult>"#;
        let (deleted, errors) = parse_delete_result(doc.as_bytes()).unwrap();
        assert_eq!(deleted.len(), 2);
        assert_eq!(deleted[0].key, "sample1.txt");
        assert_eq!(deleted[0].version_id, None);
        assert_eq!(deleted[1].key, "SampleDocument.txt");
        assert_eq!(
            deleted[1].version_id.as_deref(),
            Some("OYcLXagmS.WaD..oyH4KRguB95_YhLs7")
        );
        assert_eq!(errors.len(), 2);
        assert_eq!(
            (
                errors[0].key.as_str(),
                errors[0].code.as_str(),
                errors[0].message.as_str()
            ),
            ("sample2.txt", "AccessDenied", "Access Denied")
        );
        assert_eq!(errors[1].key, "a & b");
        assert_eq!(errors[1].version_id.as_deref(), Some("v1"));
        assert_eq!(errors[1].message, "");
    }

    #[test]
    fn delete_result_failures() {
        let (d, e) = parse_delete_result(b"<DeleteResult/>").unwrap();
        assert!(d.is_empty() && e.is_empty());
        assert!(matches!(
            parse_delete_result(b"<DeleteResult><Deleted/></DeleteResult>"),
            Err(XmlError::MissingElement("Key"))
        ));
        assert!(matches!(
            parse_delete_result(b"<DeleteResult><Error><Key>k</Key></Error></DeleteResult>"),
            Err(XmlError::MissingElement("Code"))
        ));
        assert!(matches!(
            parse_delete_result(b"<Error><Code>MalformedXML</Code></Error>"),
            Err(XmlError::UnexpectedRoot { .. })
        ));
    }

    #[test]
    fn copy_results() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <LastModified>2009-10-28T22:32:00.000Z</LastModified>
  <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
</CopyObjectResult>"#;
        let copy = parse_copy_object_result(doc.as_bytes()).unwrap();
        assert_eq!(
            copy.etag.as_deref(),
            Some("\"9b2cf535f27731c974343645a3985328\"")
        );
        assert_eq!(
            copy.last_modified
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_256_769_120
        );

        let part = parse_copy_object_result(
            b"<CopyPartResult><ETag>&quot;e&quot;</ETag><LastModified>2011-04-11T20:34:56.000Z\
              </LastModified></CopyPartResult>",
        )
        .unwrap();
        assert_eq!(part.etag.as_deref(), Some("\"e\""));
    }

    #[test]
    fn copy_error_root_is_not_success() {
        let body = "\n\n\n            <Error><Code>InternalError</Code><Message>We encountered \
                    an internal error. Please try again.</Message></Error>";
        let err = parse_copy_object_result(body.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, XmlError::UnexpectedRoot { expected: "CopyObjectResult", found } if found == "Error"),
            "{err:?}"
        );
        assert!(matches!(
            parse_copy_object_result(
                b"<CopyObjectResult><LastModified>never</LastModified></CopyObjectResult>"
            ),
            Err(XmlError::InvalidValue("LastModified"))
        ));
        assert!(matches!(
            parse_copy_object_result(b"<CopyObjectResult><ETag>x</ETag>"),
            Err(XmlError::Malformed(_))
        ));
    }

    #[test]
    fn location_constraint() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>"#;
        assert_eq!(
            parse_location_constraint(doc.as_bytes())
                .unwrap()
                .as_deref(),
            Some("eu-west-1")
        );
        let empty = r#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#;
        assert_eq!(parse_location_constraint(empty.as_bytes()).unwrap(), None);
        assert_eq!(
            parse_location_constraint(b"<LocationConstraint></LocationConstraint>").unwrap(),
            None
        );
        assert!(matches!(
            parse_location_constraint(b"<Error/>"),
            Err(XmlError::UnexpectedRoot { .. })
        ));
    }
}
