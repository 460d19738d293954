//! The GetObjectAttributes response: `<GetObjectAttributesResponse>`.

use super::error::XmlError;
use super::multipart::parse_part;
use super::reader::{Elem, XmlReader, non_empty, parse_bool, parse_u32, parse_u64};
use crate::checksum::{ChecksumAlgorithm, ChecksumType};
use crate::types::PartInfo;

/// The attributes a GetObjectAttributes answer reported (those not asked for are absent).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct AttributesDoc {
    pub(crate) etag: Option<String>,
    pub(crate) checksum: Option<(ChecksumAlgorithm, String)>,
    pub(crate) checksum_type: Option<ChecksumType>,
    pub(crate) parts: Option<PartsDoc>,
    pub(crate) storage_class: Option<String>,
    pub(crate) object_size: Option<u64>,
}

/// `<ObjectParts>`: the parts of a multipart object (one page of them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PartsDoc {
    pub(crate) parts_count: Option<u32>,
    pub(crate) parts: Vec<PartInfo>,
    pub(crate) is_truncated: bool,
    pub(crate) next_part_number_marker: Option<u32>,
}

/// Parses a `<GetObjectAttributesResponse>`.
///
/// # Errors
///
/// `UnexpectedRoot` for another root (an `<Error>` included), `InvalidValue` for bad numbers
/// or booleans, `MissingElement("PartNumber")` for a part without one, and the structural
/// errors.
pub(crate) fn parse_object_attributes(body: &[u8]) -> Result<AttributesDoc, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "GetObjectAttributesResponse")?;
    let mut out = AttributesDoc::default();
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"ETag" => out.etag = non_empty(r.text(&child)?),
            b"StorageClass" => out.storage_class = non_empty(r.text(&child)?),
            b"ObjectSize" => out.object_size = Some(parse_u64(&r.text(&child)?, "ObjectSize")?),
            b"Checksum" => {
                while let Some(c) = r.next_child(&child)? {
                    match c.name() {
                        b"ChecksumType" => out.checksum_type = ChecksumType::parse(&r.text(&c)?),
                        name => {
                            if let Some(alg) = ChecksumAlgorithm::from_xml_element(name)
                                && let Some(v) = non_empty(r.text(&c)?)
                                && out.checksum.is_none()
                            {
                                out.checksum = Some((alg, v));
                            }
                        }
                    }
                }
            }
            b"ObjectParts" => out.parts = Some(parse_parts(&mut r, &child)?),
            _ => {}
        }
    }
    r.finish()?;
    Ok(out)
}

fn parse_parts<'a>(r: &mut XmlReader<'a>, elem: &Elem<'a>) -> Result<PartsDoc, XmlError> {
    let mut out = PartsDoc::default();
    while let Some(c) = r.next_child(elem)? {
        match c.name() {
            b"PartsCount" | b"TotalPartsCount" => {
                out.parts_count = Some(parse_u32(&r.text(&c)?, "PartsCount")?);
            }
            b"IsTruncated" => out.is_truncated = parse_bool(&r.text(&c)?, "IsTruncated")?,
            b"NextPartNumberMarker" => {
                let text = r.text(&c)?;
                if !text.trim().is_empty() {
                    out.next_part_number_marker = Some(parse_u32(&text, "NextPartNumberMarker")?);
                }
            }
            b"Part" | b"Parts" => out.parts.push(parse_part(r, &c)?),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    /// A response with every attribute, built from the response syntax of the
    /// GetObjectAttributes API reference (the reference gives no example response).
    const EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <ETag>c7b4f1a4d0b5a7f5bd1d4a1de9b8d1f7-2</ETag>
  <Checksum>
    <ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>
    <ChecksumType>FULL_OBJECT</ChecksumType>
  </Checksum>
  <ObjectParts>
    <IsTruncated>true</IsTruncated>
    <MaxParts>1</MaxParts>
    <NextPartNumberMarker>1</NextPartNumberMarker>
    <PartNumberMarker>0</PartNumberMarker>
    <Part>
      <ChecksumCRC64NVME>3Mtx0qaCvi4=</ChecksumCRC64NVME>
      <PartNumber>1</PartNumber>
      <Size>5242880</Size>
    </Part>
    <PartsCount>2</PartsCount>
  </ObjectParts>
  <StorageClass>STANDARD</StorageClass>
  <ObjectSize>5243904</ObjectSize>
</GetObjectAttributesResponse>"#;

    #[test]
    fn parses_every_attribute() {
        let a = parse_object_attributes(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(
            a.etag.as_deref(),
            Some("c7b4f1a4d0b5a7f5bd1d4a1de9b8d1f7-2")
        );
        assert_eq!(
            a.checksum,
            Some((ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA=".to_owned()))
        );
        assert_eq!(a.checksum_type, Some(ChecksumType::FullObject));
        assert_eq!(a.storage_class.as_deref(), Some("STANDARD"));
        assert_eq!(a.object_size, Some(5_243_904));
        let parts = a.parts.unwrap();
        assert_eq!(parts.parts_count, Some(2));
        assert!(parts.is_truncated);
        assert_eq!(parts.next_part_number_marker, Some(1));
        assert_eq!(parts.parts.len(), 1);
        assert_eq!(parts.parts[0].part_number, 1);
        assert_eq!(parts.parts[0].size, 5_242_880);
        assert_eq!(
            parts.parts[0].checksum,
            Some((ChecksumAlgorithm::Crc64Nvme, "3Mtx0qaCvi4=".to_owned()))
        );
    }

    #[test]
    fn an_error_document_or_bad_number_is_an_error() {
        assert!(parse_object_attributes(b"<Error><Code>NoSuchKey</Code></Error>").is_err());
        assert!(
            parse_object_attributes(
                b"<GetObjectAttributesResponse><ObjectSize>-1</ObjectSize></GetObjectAttributesResponse>"
            )
            .is_err()
        );
        let empty = parse_object_attributes(b"<GetObjectAttributesResponse/>").unwrap();
        assert_eq!(empty, AttributesDoc::default());
    }
}
