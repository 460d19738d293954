//! The ListMultipartUploads `<ListMultipartUploadsResult>`.

use super::error::XmlError;
use super::reader::{Elem, XmlReader, non_empty, parse_bool, parse_date, percent_decode};
use crate::types::{MultipartUploadInfo, UploadsPage};

/// Parses a ListMultipartUploads page. With `EncodingType` `url`, keys, prefixes and
/// `NextKeyMarker` are percent-decoded.
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `MissingElement` for an upload without `Key` or
/// `UploadId`; `InvalidValue` for a bad boolean, date or escape; the structural errors.
pub(crate) fn parse_list_uploads(body: &[u8]) -> Result<UploadsPage, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "ListMultipartUploadsResult")?;
    let mut page = UploadsPage::default();
    let mut url_encoded = false;
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"Upload" => page.uploads.push(parse_upload(&mut r, &child)?),
            b"CommonPrefixes" => {
                while let Some(c) = r.next_child(&child)? {
                    if c.name() == b"Prefix" {
                        page.common_prefixes.push(r.text(&c)?.into_owned());
                    }
                }
            }
            b"IsTruncated" => page.is_truncated = parse_bool(&r.text(&child)?, "IsTruncated")?,
            b"NextKeyMarker" => page.next_key_marker = non_empty(r.text(&child)?),
            b"NextUploadIdMarker" => page.next_upload_id_marker = non_empty(r.text(&child)?),
            b"EncodingType" => url_encoded = r.text(&child)?.trim().eq_ignore_ascii_case("url"),
            _ => {}
        }
    }
    r.finish()?;
    if url_encoded {
        for u in &mut page.uploads {
            u.key = percent_decode(std::mem::take(&mut u.key), "Key")?;
        }
        for p in &mut page.common_prefixes {
            *p = percent_decode(std::mem::take(p), "Prefix")?;
        }
        if let Some(m) = page.next_key_marker.take() {
            page.next_key_marker = Some(percent_decode(m, "NextKeyMarker")?);
        }
    }
    Ok(page)
}

/// Parses one `<Upload>`.
fn parse_upload<'a>(
    r: &mut XmlReader<'a>,
    elem: &Elem<'a>,
) -> Result<MultipartUploadInfo, XmlError> {
    let (mut key, mut upload_id, mut initiated, mut storage_class) = (None, None, None, None);
    while let Some(c) = r.next_child(elem)? {
        match c.name() {
            b"Key" => key = Some(r.text(&c)?.into_owned()),
            b"UploadId" => upload_id = non_empty(r.text(&c)?),
            b"Initiated" => initiated = Some(parse_date(&r.text(&c)?, "Initiated")?),
            b"StorageClass" => storage_class = non_empty(r.text(&c)?),
            _ => {}
        }
    }
    Ok(MultipartUploadInfo {
        key: key.ok_or(XmlError::MissingElement("Key"))?,
        upload_id: upload_id.ok_or(XmlError::MissingElement("UploadId"))?,
        initiated,
        storage_class,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    /// The first example answer of the ListMultipartUploads API reference.
    pub(crate) const DOC_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator><ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID><DisplayName>user1-11111a31-17b5-4fb7-9df5-b111111f13de</DisplayName></Initiator>
    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>OwnerDisplayName</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2008-11-10T20:48:33.000Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>"#;

    #[test]
    fn documented_example() {
        let page = parse_list_uploads(DOC_EXAMPLE.as_bytes()).unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.next_key_marker.as_deref(), Some("my-movie.m2ts"));
        assert_eq!(
            page.next_upload_id_marker.as_deref(),
            Some("YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ")
        );
        let keys: Vec<_> = page.uploads.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(keys, ["my-divisor", "my-movie.m2ts", "my-movie.m2ts"]);
        let secs = |u: &MultipartUploadInfo| {
            u.initiated
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        assert_eq!(secs(&page.uploads[0]), 1_289_422_113);
        assert_eq!(secs(&page.uploads[2]), 1_226_350_113);
        assert_eq!(page.uploads[0].storage_class.as_deref(), Some("STANDARD"));
    }

    #[test]
    fn encoded_keys_and_errors() {
        let doc = "<ListMultipartUploadsResult><EncodingType>url</EncodingType>\
                   <Upload><Key>a%20b</Key><UploadId>u</UploadId></Upload>\
                   <CommonPrefixes><Prefix>p%2F</Prefix></CommonPrefixes></ListMultipartUploadsResult>";
        let page = parse_list_uploads(doc.as_bytes()).unwrap();
        assert_eq!(page.uploads[0].key, "a b");
        assert_eq!(page.common_prefixes, ["p/"]);
        assert!(matches!(
            parse_list_uploads(b"<ListMultipartUploadsResult><Upload><Key>k</Key></Upload></ListMultipartUploadsResult>"),
            Err(XmlError::MissingElement("UploadId"))
        ));
    }
}
