//! ListObjectsV2 and ListBuckets responses.

use super::error::XmlError;
use super::reader::{
    Elem, XmlReader, non_empty, parse_bool, parse_date, parse_u64, percent_decode,
};
use crate::types::{BucketInfo, ListPage, ObjectInfo, Text};

/// Parses a ListObjectsV2 `<ListBucketResult>` page.
///
/// `Contents` and `CommonPrefixes` may be interleaved in any order; each list keeps the
/// server's order. When `EncodingType` is `url` (wherever it appears in the document), object
/// keys and common prefixes are percent-decoded.
///
/// # Errors
///
/// `UnexpectedRoot` for another root (including `Error`); `MissingElement` for a `Contents`
/// without `Key` or `Size`; `InvalidValue` for a bad number, boolean, date or escape; any of
/// the structural errors for a malformed or hostile document.
pub(crate) fn parse_list_objects_v2(body: &[u8]) -> Result<ListPage, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "ListBucketResult")?;
    let mut page = ListPage::default();
    let mut url_encoded = false;
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"Contents" => page.objects.push(parse_contents(&mut r, &child)?),
            b"CommonPrefixes" => {
                while let Some(c) = r.next_child(&child)? {
                    if c.name() == b"Prefix" {
                        page.common_prefixes.push(r.text(&c)?.into_owned());
                    }
                }
            }
            b"IsTruncated" => page.is_truncated = parse_bool(&r.text(&child)?, "IsTruncated")?,
            b"NextContinuationToken" => page.next_continuation_token = non_empty(r.text(&child)?),
            b"KeyCount" => {
                let count = parse_u64(&r.text(&child)?, "KeyCount")?;
                page.key_count = Some(count);
                // S3 sends it before the keys: room for them at once (at most a page's worth,
                // whatever a server claims).
                let room = usize::try_from(count.min(1000)).unwrap_or(0);
                page.objects
                    .reserve(room.saturating_sub(page.objects.len()));
            }
            b"EncodingType" => url_encoded = r.text(&child)?.trim().eq_ignore_ascii_case("url"),
            _ => {}
        }
    }
    r.finish()?;
    if url_encoded {
        for object in &mut page.objects {
            object.key = percent_decode(std::mem::take(&mut object.key).into(), "Key")?.into();
        }
        for prefix in &mut page.common_prefixes {
            *prefix = percent_decode(std::mem::take(prefix), "Prefix")?;
        }
    }
    Ok(page)
}

/// Parses one `<Contents>` element.
fn parse_contents<'a>(r: &mut XmlReader<'a>, contents: &Elem<'a>) -> Result<ObjectInfo, XmlError> {
    let mut key = None;
    let mut size = None;
    let mut last_modified = None;
    let mut etag = None;
    let mut storage_class = None;
    while let Some(c) = r.next_child(contents)? {
        match c.name() {
            b"Key" => key = Some(r.text(&c)?.into_owned()),
            b"Size" => size = Some(parse_u64(&r.text(&c)?, "Size")?),
            b"LastModified" => last_modified = Some(parse_date(&r.text(&c)?, "LastModified")?),
            b"ETag" => etag = non_empty(r.text(&c)?),
            b"StorageClass" => storage_class = non_empty(r.text(&c)?),
            _ => {}
        }
    }
    Ok(ObjectInfo {
        key: Text::from(key.ok_or(XmlError::MissingElement("Key"))?),
        size: size.ok_or(XmlError::MissingElement("Size"))?,
        last_modified,
        etag: etag.map(Text::from),
        storage_class: storage_class.map(Text::from),
    })
}

/// Parses a ListBuckets `<ListAllMyBucketsResult>`: the buckets and the `ContinuationToken`
/// that asks for the next page, if any.
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `MissingElement("Name")` for a nameless bucket;
/// `InvalidValue("CreationDate")` for a bad date; the structural errors otherwise.
pub(crate) fn parse_list_buckets(
    body: &[u8],
) -> Result<(Vec<BucketInfo>, Option<String>), XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "ListAllMyBucketsResult")?;
    let mut buckets = Vec::new();
    let mut token = None;
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"Buckets" => {
                while let Some(bucket) = r.next_child(&child)? {
                    if bucket.name() == b"Bucket" {
                        buckets.push(parse_bucket(&mut r, &bucket)?);
                    }
                }
            }
            b"ContinuationToken" => token = non_empty(r.text(&child)?),
            _ => {}
        }
    }
    r.finish()?;
    Ok((buckets, token))
}

/// Parses one `<Bucket>` element.
fn parse_bucket<'a>(r: &mut XmlReader<'a>, bucket: &Elem<'a>) -> Result<BucketInfo, XmlError> {
    let mut name = None;
    let mut creation_date = None;
    while let Some(c) = r.next_child(bucket)? {
        match c.name() {
            b"Name" => name = non_empty(r.text(&c)?),
            b"CreationDate" => creation_date = Some(parse_date(&r.text(&c)?, "CreationDate")?),
            _ => {}
        }
    }
    Ok(BucketInfo {
        name: name.ok_or(XmlError::MissingElement("Name"))?,
        creation_date,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    const INTERLEAVED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>example-bucket</Name>
  <Prefix>photos/</Prefix>
  <KeyCount>4</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>photos/a.jpg</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
    <Owner><ID>75aa57f0</ID><DisplayName>me</DisplayName></Owner>
  </Contents>
  <CommonPrefixes><Prefix>photos/2006/</Prefix></CommonPrefixes>
  <Contents>
    <Size>0</Size>
    <Key>photos/b.jpg</Key>
    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>
  </Contents>
  <CommonPrefixes><Prefix>photos/2007/</Prefix></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>"#;

    #[test]
    fn interleaved_contents_and_prefixes() {
        let page = parse_list_objects_v2(INTERLEAVED.as_bytes()).unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.key_count, Some(4));
        assert_eq!(
            page.next_continuation_token.as_deref(),
            Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        );
        assert_eq!(page.common_prefixes, ["photos/2006/", "photos/2007/"]);
        assert_eq!(page.objects.len(), 2);
        let a = &page.objects[0];
        assert_eq!(a.key, "photos/a.jpg");
        assert_eq!(a.size, 434_234);
        assert_eq!(
            a.etag.as_deref(),
            Some("\"fba9dede5f27731c9771645a39863328\"")
        );
        assert_eq!(a.storage_class.as_deref(), Some("STANDARD"));
        assert_eq!(
            a.last_modified
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_255_369_830
        );
        let b = &page.objects[1];
        assert_eq!((b.key.as_str(), b.size), ("photos/b.jpg", 0));
        assert_eq!((b.etag.as_ref(), b.last_modified), (None, None));
    }

    #[test]
    fn url_encoding_type_decodes_keys_even_when_declared_last() {
        let doc = r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Contents><Key>a%20b</Key><Size>1</Size></Contents>
  <CommonPrefixes><Prefix>dir%2F%E6%97%A5/</Prefix></CommonPrefixes>
  <Contents><Key>a%2Bb</Key><Size>2</Size></Contents>
  <Contents><Key>%E6%97%A5</Key><Size>3</Size></Contents>
  <Contents><Key>a+b</Key><Size>4</Size></Contents>
  <IsTruncated>false</IsTruncated>
  <EncodingType>url</EncodingType>
</ListBucketResult>"#;
        let page = parse_list_objects_v2(doc.as_bytes()).unwrap();
        let keys: Vec<_> = page.objects.iter().map(|o| o.key.as_str()).collect();
        // A literal '+' is %2B; a bare '+' is a space (form encoding, as S3 sends it).
        assert_eq!(keys, ["a b", "a+b", "日", "a b"]);
        assert_eq!(page.common_prefixes, ["dir/日/"]);
        assert!(!page.is_truncated);
    }

    #[test]
    fn without_encoding_type_keys_are_literal() {
        let doc = "<ListBucketResult><Contents><Key>a%20b</Key><Size>1</Size></Contents>\
                   </ListBucketResult>";
        let page = parse_list_objects_v2(doc.as_bytes()).unwrap();
        assert_eq!(page.objects[0].key, "a%20b");
    }

    #[test]
    fn bad_escapes_under_url_encoding_fail() {
        for key in ["%zz", "%FF", "50%"] {
            let doc = format!(
                "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>{key}</Key>\
                 <Size>1</Size></Contents></ListBucketResult>"
            );
            assert!(matches!(
                parse_list_objects_v2(doc.as_bytes()),
                Err(XmlError::InvalidValue("Key"))
            ));
        }
    }

    #[test]
    fn empty_listing() {
        let doc = r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix/><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"#;
        let page = parse_list_objects_v2(doc.as_bytes()).unwrap();
        assert_eq!(
            page,
            ListPage {
                key_count: Some(0),
                ..ListPage::default()
            }
        );
    }

    #[test]
    fn listing_errors() {
        type Check = fn(&XmlError) -> bool;
        let cases: [(&str, Check); 6] = [
            (
                "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
                |e| matches!(e, XmlError::MissingElement("Size")),
            ),
            (
                "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
                |e| matches!(e, XmlError::MissingElement("Key")),
            ),
            (
                "<ListBucketResult><Contents><Key>k</Key><Size>1</Size>\
                 <LastModified>Mon, 12 Oct 2009</LastModified></Contents></ListBucketResult>",
                |e| matches!(e, XmlError::InvalidValue("LastModified")),
            ),
            (
                "<ListBucketResult><Contents><Key>k</Key><Size>-5</Size></Contents>\
                 </ListBucketResult>",
                |e| matches!(e, XmlError::InvalidValue("Size")),
            ),
            (
                "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
                |e| matches!(e, XmlError::InvalidValue("IsTruncated")),
            ),
            (
                "<Error><Code>AccessDenied</Code></Error>",
                |e| matches!(e, XmlError::UnexpectedRoot { found, .. } if found == "Error"),
            ),
        ];
        for (doc, check) in cases {
            let err = parse_list_objects_v2(doc.as_bytes()).unwrap_err();
            assert!(check(&err), "{doc}: {err:?}");
        }
    }

    #[test]
    fn a_thousand_keys() {
        let mut doc = String::from("<ListBucketResult><IsTruncated>true</IsTruncated>");
        for i in 0..1000 {
            doc.push_str(&format!(
                "<Contents><Key>logs/2024/{i:05}.gz</Key><LastModified>2024-01-02T03:04:05.678Z\
                 </LastModified><ETag>&quot;{i:032x}&quot;</ETag><Size>{i}</Size>\
                 <StorageClass>STANDARD</StorageClass></Contents>"
            ));
        }
        doc.push_str("</ListBucketResult>");
        let page = parse_list_objects_v2(doc.as_bytes()).unwrap();
        assert_eq!(page.objects.len(), 1000);
        assert_eq!(page.objects[999].key, "logs/2024/00999.gz");
        assert_eq!(page.objects[999].size, 999);
        assert_eq!(
            page.objects[1].etag.as_deref(),
            Some(&*format!("\"{:032x}\"", 1))
        );
    }

    const BUCKETS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>bcaf1ffd86f461ca5fb16fd081034f</ID><DisplayName>webfile</DisplayName></Owner>
  <Buckets>
    <Bucket><Name>amzn-s3-demo-bucket</Name><CreationDate>2006-02-03T16:45:09.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket>
    <Bucket><CreationDate>2006-02-03T16:41:58.000Z</CreationDate><Name>amzn-s3-demo-bucket1</Name></Bucket>
    <Bucket><Name>no-date</Name></Bucket>
  </Buckets>
  <ContinuationToken>eyJNYXJrZXIiOiAiYnVja2V0LTMifQ==</ContinuationToken>
</ListAllMyBucketsResult>"#;

    #[test]
    fn list_buckets() {
        let (buckets, token) = parse_list_buckets(BUCKETS.as_bytes()).unwrap();
        let names: Vec<_> = buckets.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            ["amzn-s3-demo-bucket", "amzn-s3-demo-bucket1", "no-date"]
        );
        assert_eq!(
            buckets[0]
                .creation_date
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_138_985_109
        );
        assert_eq!(buckets[2].creation_date, None);
        assert_eq!(token.as_deref(), Some("eyJNYXJrZXIiOiAiYnVja2V0LTMifQ=="));

        let (none, token) =
            parse_list_buckets(b"<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>")
                .unwrap();
        assert!(none.is_empty() && token.is_none());
        assert!(matches!(
            parse_list_buckets(
                b"<ListAllMyBucketsResult><Buckets><Bucket/></Buckets></ListAllMyBucketsResult>"
            ),
            Err(XmlError::MissingElement("Name"))
        ));
        assert!(matches!(
            parse_list_buckets(b"<ListBucketResult/>"),
            Err(XmlError::UnexpectedRoot { .. })
        ));
    }
}
