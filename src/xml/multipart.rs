//! Multipart upload responses: CreateMultipartUpload, CompleteMultipartUpload, ListParts.

use super::error::XmlError;
use super::reader::{Elem, XmlReader, non_empty, parse_bool, parse_u32, parse_u64};
use crate::checksum::{ChecksumAlgorithm, ChecksumType};
use crate::types::PartInfo;

/// What CompleteMultipartUpload reports about the assembled object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct CompleteResult {
    /// The entity tag of the assembled object, quotes included.
    pub(crate) etag: Option<String>,
    /// The URL of the object, as the server gave it.
    pub(crate) location: Option<String>,
    /// The object's checksum (`ChecksumCRC32C` etc.), when the server reported one.
    pub(crate) checksum: Option<(ChecksumAlgorithm, String)>,
    /// `ChecksumType`, when the server reported it.
    pub(crate) checksum_type: Option<ChecksumType>,
}

/// One page of a ListParts response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PartsPage {
    /// The parts on this page, in the server's order.
    pub(crate) parts: Vec<PartInfo>,
    /// Whether more pages follow.
    pub(crate) is_truncated: bool,
    /// The `part-number-marker` that asks for the next page.
    pub(crate) next_part_number_marker: Option<u32>,
}

/// Parses a CreateMultipartUpload `<InitiateMultipartUploadResult>` and returns its `UploadId`.
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `MissingElement("UploadId")` if it is absent or empty.
pub(crate) fn parse_initiate_multipart(body: &[u8]) -> Result<String, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "InitiateMultipartUploadResult")?;
    let mut upload_id = None;
    while let Some(child) = r.next_child(&root)? {
        if child.name() == b"UploadId" {
            upload_id = non_empty(r.text(&child)?);
        }
    }
    r.finish()?;
    upload_id.ok_or(XmlError::MissingElement("UploadId"))
}

/// Parses a `<CompleteMultipartUploadResult>`.
///
/// The response to CompleteMultipartUpload is a `200` even when the completion failed, with
/// an `<Error>` body (possibly after long whitespace); that body, an empty body and a truncated
/// document are all errors here, so only a whole success document counts as success.
///
/// # Errors
///
/// `UnexpectedRoot` (an `Error` root is `found: "Error"`), `Malformed` for empty or truncated
/// bodies, and the other structural errors.
pub(crate) fn parse_complete_multipart(body: &[u8]) -> Result<CompleteResult, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "CompleteMultipartUploadResult")?;
    let mut out = CompleteResult::default();
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"ETag" => out.etag = non_empty(r.text(&child)?),
            b"Location" => out.location = non_empty(r.text(&child)?),
            b"ChecksumType" => out.checksum_type = ChecksumType::parse(&r.text(&child)?),
            name => {
                if let Some(alg) = ChecksumAlgorithm::from_xml_element(name)
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

/// Parses a ListParts `<ListPartsResult>` page.
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `MissingElement` for a `Part` without `PartNumber`;
/// `InvalidValue` for bad numbers or booleans; the structural errors otherwise. A missing
/// `Size` is reported as 0 and a missing `ETag` as an empty string (some stores omit it; such a
/// part cannot be completed from the listing, which `complete_with` refuses).
pub(crate) fn parse_list_parts(body: &[u8]) -> Result<PartsPage, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "ListPartsResult")?;
    let mut page = PartsPage::default();
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"Part" => page.parts.push(parse_part(&mut r, &child)?),
            b"IsTruncated" => page.is_truncated = parse_bool(&r.text(&child)?, "IsTruncated")?,
            b"NextPartNumberMarker" => {
                let text = r.text(&child)?;
                page.next_part_number_marker = if text.trim().is_empty() {
                    None
                } else {
                    Some(parse_u32(&text, "NextPartNumberMarker")?)
                };
            }
            _ => {}
        }
    }
    r.finish()?;
    Ok(page)
}

/// Parses one `<Part>` element.
pub(super) fn parse_part<'a>(r: &mut XmlReader<'a>, part: &Elem<'a>) -> Result<PartInfo, XmlError> {
    let mut number = None;
    let mut etag = None;
    let mut size = 0;
    let mut checksum = None;
    while let Some(c) = r.next_child(part)? {
        match c.name() {
            b"PartNumber" => number = Some(parse_u32(&r.text(&c)?, "PartNumber")?),
            b"ETag" => etag = non_empty(r.text(&c)?),
            b"Size" => size = parse_u64(&r.text(&c)?, "Size")?,
            name => {
                if let Some(alg) = ChecksumAlgorithm::from_xml_element(name)
                    && let Some(v) = non_empty(r.text(&c)?)
                {
                    checksum = Some((alg, v));
                }
            }
        }
    }
    let mut info = PartInfo::new(
        number.ok_or(XmlError::MissingElement("PartNumber"))?,
        etag.unwrap_or_default(),
    );
    info.size = size;
    info.checksum = checksum;
    Ok(info)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn initiate() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>"#;
        assert_eq!(
            parse_initiate_multipart(doc.as_bytes()).unwrap(),
            "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
        );
        for bad in [
            &b"<InitiateMultipartUploadResult><UploadId/></InitiateMultipartUploadResult>"[..],
            b"<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>",
        ] {
            assert!(matches!(
                parse_initiate_multipart(bad),
                Err(XmlError::MissingElement("UploadId"))
            ));
        }
    }

    const COMPLETE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://Example-Bucket.s3.region.amazonaws.com/Example-Object</Location>
  <Bucket>Example-Bucket</Bucket>
  <Key>Example-Object</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>"#;

    #[test]
    fn complete() {
        let done = parse_complete_multipart(COMPLETE.as_bytes()).unwrap();
        assert_eq!(
            done.etag.as_deref(),
            Some("\"3858f62230ac3c915f300c664312c11f-9\"")
        );
        assert_eq!(
            done.location.as_deref(),
            Some("http://Example-Bucket.s3.region.amazonaws.com/Example-Object")
        );
    }

    #[test]
    fn complete_with_a_checksum() {
        let doc = "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag>\
            <ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>\
            <ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>";
        let done = parse_complete_multipart(doc.as_bytes()).unwrap();
        assert_eq!(
            done.checksum,
            Some((ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA=".to_owned()))
        );
        assert_eq!(done.checksum_type, Some(ChecksumType::FullObject));
    }

    #[test]
    fn complete_failures() {
        let truncated = &COMPLETE.as_bytes()[..COMPLETE.len() - 40];
        assert!(matches!(
            parse_complete_multipart(truncated),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            parse_complete_multipart(b""),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            parse_complete_multipart(b"   \n  "),
            Err(XmlError::Malformed(_))
        ));
        let error_in_200 = "          \n<Error><Code>InternalError</Code><Message>We \
            encountered an internal error. Please try again.</Message><RequestId>656c76696e67\
            </RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>\
            </Error>";
        assert!(matches!(
            parse_complete_multipart(error_in_200.as_bytes()),
            Err(XmlError::UnexpectedRoot { expected: "CompleteMultipartUploadResult", found })
                if found == "Error"
        ));
    }

    const PARTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
  <Initiator><ID>arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7-9df5-b288870f11xx</ID><DisplayName>umat-user-11116a31-17b5-4fb7-9df5-b288870f11xx</DisplayName></Initiator>
  <StorageClass>STANDARD</StorageClass>
  <PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts>
  <IsTruncated>true</IsTruncated>
  <Part>
    <PartNumber>2</PartNumber>
    <LastModified>2010-11-10T20:48:34.000Z</LastModified>
    <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag>
    <Size>10485760</Size>
  </Part>
  <Part>
    <Size>10485760</Size>
    <ETag>&quot;aaaa18db4cc2f85cedef654fccc4a4x8&quot;</ETag>
    <PartNumber>3</PartNumber>
    <LastModified>2010-11-10T20:48:33.000Z</LastModified>
  </Part>
</ListPartsResult>"#;

    #[test]
    fn list_parts() {
        let page = parse_list_parts(PARTS.as_bytes()).unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.next_part_number_marker, Some(3));
        assert_eq!(page.parts.len(), 2);
        assert_eq!(page.parts[0].part_number, 2);
        assert_eq!(page.parts[0].etag, "\"7778aef83f66abc1fa1e8477f296d394\"");
        assert_eq!(page.parts[1].part_number, 3);
        assert_eq!(page.parts[1].size, 10_485_760);
        assert_eq!(page.parts[1].etag, "\"aaaa18db4cc2f85cedef654fccc4a4x8\"");
        assert_eq!(page.parts[0].checksum, None);
        let page = parse_list_parts(
            b"<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>e</ETag>\
              <ChecksumSHA256>n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</ChecksumSHA256>\
              <Size>5</Size></Part></ListPartsResult>",
        )
        .unwrap();
        assert_eq!(
            page.parts[0].checksum,
            Some((
                ChecksumAlgorithm::Sha256,
                "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".to_owned()
            ))
        );
    }

    #[test]
    fn list_parts_edge_cases() {
        let page = parse_list_parts(
            b"<ListPartsResult><NextPartNumberMarker/><IsTruncated>false</IsTruncated>\
              <Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></ListPartsResult>",
        )
        .unwrap();
        assert_eq!(page.next_part_number_marker, None);
        assert_eq!(page.parts[0].size, 0);
        assert!(matches!(
            parse_list_parts(b"<ListPartsResult><Part><ETag>e</ETag></Part></ListPartsResult>"),
            Err(XmlError::MissingElement("PartNumber"))
        ));
        // Some stores (s3s-fs) list parts without ETags: tolerated as an empty ETag.
        let page = parse_list_parts(
            b"<ListPartsResult><Part><PartNumber>1</PartNumber></Part></ListPartsResult>",
        )
        .unwrap();
        assert_eq!(page.parts[0].etag, "");
        assert!(matches!(
            parse_list_parts(
                b"<ListPartsResult><NextPartNumberMarker>99999999999</NextPartNumberMarker>\
                  </ListPartsResult>"
            ),
            Err(XmlError::InvalidValue("NextPartNumberMarker"))
        ));
    }
}
