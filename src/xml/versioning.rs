//! Versioning documents: the bucket's `<VersioningConfiguration>` (read and written) and the
//! ListObjectVersions `<ListVersionsResult>`.

use super::error::XmlError;
use super::reader::{
    Elem, XmlReader, non_empty, parse_bool, parse_date, parse_u64, percent_decode,
};
use super::write::{S3_NAMESPACE, escape_into};
use crate::types::{DeleteMarkerEntry, ObjectVersion, Text, VersionEntry, VersionsPage};

/// Parses a GetBucketVersioning `<VersioningConfiguration>` into its `Status` and `MfaDelete`
/// (both absent for a bucket that never had versioning enabled).
///
/// # Errors
///
/// `UnexpectedRoot` for another root; the structural errors.
pub(crate) fn parse_versioning(body: &[u8]) -> Result<(Option<String>, Option<String>), XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "VersioningConfiguration")?;
    let (mut status, mut mfa) = (None, None);
    while let Some(c) = r.next_child(&root)? {
        match c.name() {
            b"Status" => status = non_empty(r.text(&c)?),
            b"MfaDelete" => mfa = non_empty(r.text(&c)?),
            _ => {}
        }
    }
    r.finish()?;
    Ok((status, mfa))
}

/// Builds a PutBucketVersioning `<VersioningConfiguration>` body. `status` and `mfa_delete`
/// come from enums of fixed names, so there is nothing to refuse.
pub(crate) fn write_versioning(status: &str, mfa_delete: Option<&str>) -> String {
    let mut out = String::with_capacity(160);
    out.push_str("<VersioningConfiguration xmlns=\"");
    out.push_str(S3_NAMESPACE);
    out.push_str("\"><Status>");
    escape_into(&mut out, status);
    out.push_str("</Status>");
    if let Some(m) = mfa_delete {
        out.push_str("<MfaDelete>");
        escape_into(&mut out, m);
        out.push_str("</MfaDelete>");
    }
    out.push_str("</VersioningConfiguration>");
    out
}

/// Parses a ListObjectVersions `<ListVersionsResult>` page.
///
/// Versions and delete markers keep the server's order. With `EncodingType` `url`, keys,
/// prefixes and `NextKeyMarker` are percent-decoded.
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `MissingElement` for an entry without `Key` or
/// `VersionId`, or a version without `Size`; `InvalidValue` for a bad number, boolean, date or
/// escape; the structural errors.
pub(crate) fn parse_list_versions(body: &[u8]) -> Result<VersionsPage, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "ListVersionsResult")?;
    let mut page = VersionsPage::default();
    let mut url_encoded = false;
    while let Some(child) = r.next_child(&root)? {
        match child.name() {
            b"Version" => page
                .entries
                .push(VersionEntry::Version(parse_version(&mut r, &child)?)),
            b"DeleteMarker" => {
                let v = parse_version(&mut r, &child)?;
                page.entries
                    .push(VersionEntry::DeleteMarker(DeleteMarkerEntry {
                        key: v.key,
                        version_id: v.version_id,
                        is_latest: v.is_latest,
                        last_modified: v.last_modified,
                    }));
            }
            b"CommonPrefixes" => {
                while let Some(c) = r.next_child(&child)? {
                    if c.name() == b"Prefix" {
                        page.common_prefixes.push(r.text(&c)?.into_owned());
                    }
                }
            }
            b"IsTruncated" => page.is_truncated = parse_bool(&r.text(&child)?, "IsTruncated")?,
            b"NextKeyMarker" => page.next_key_marker = non_empty(r.text(&child)?),
            b"NextVersionIdMarker" => page.next_version_id_marker = non_empty(r.text(&child)?),
            b"EncodingType" => url_encoded = r.text(&child)?.trim().eq_ignore_ascii_case("url"),
            _ => {}
        }
    }
    r.finish()?;
    // A delete marker has no size: `parse_version` gave it 0, and only versions need one.
    for e in &page.entries {
        if let VersionEntry::Version(v) = e
            && v.size == u64::MAX
        {
            return Err(XmlError::MissingElement("Size"));
        }
    }
    if url_encoded {
        for e in &mut page.entries {
            let key = match e {
                VersionEntry::Version(v) => &mut v.key,
                VersionEntry::DeleteMarker(d) => &mut d.key,
                VersionEntry::Prefix(p) => {
                    *p = percent_decode(std::mem::take(p), "Key")?;
                    continue;
                }
            };
            *key = percent_decode(std::mem::take(key).into(), "Key")?.into();
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

/// Parses a `<Version>` or `<DeleteMarker>`; a missing `Size` is `u64::MAX` (checked by the
/// caller for versions only).
fn parse_version<'a>(r: &mut XmlReader<'a>, elem: &Elem<'a>) -> Result<ObjectVersion, XmlError> {
    let mut v = ObjectVersion {
        key: Text::default(),
        version_id: String::new(),
        is_latest: false,
        size: u64::MAX,
        last_modified: None,
        etag: None,
        storage_class: None,
    };
    let (mut key, mut version_id) = (None, None);
    while let Some(c) = r.next_child(elem)? {
        match c.name() {
            b"Key" => key = Some(r.text(&c)?.into_owned()),
            b"VersionId" => version_id = non_empty(r.text(&c)?),
            b"IsLatest" => v.is_latest = parse_bool(&r.text(&c)?, "IsLatest")?,
            b"Size" => v.size = parse_u64(&r.text(&c)?, "Size")?,
            b"LastModified" => v.last_modified = Some(parse_date(&r.text(&c)?, "LastModified")?),
            b"ETag" => v.etag = non_empty(r.text(&c)?).map(Text::from),
            b"StorageClass" => v.storage_class = non_empty(r.text(&c)?).map(Text::from),
            _ => {}
        }
    }
    v.key = Text::from(key.ok_or(XmlError::MissingElement("Key"))?);
    v.version_id = version_id.ok_or(XmlError::MissingElement("VersionId"))?;
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    /// The example answer of the ListObjectVersions API reference (owners shortened).
    const DOC_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
    <Name>bucket</Name>
    <Prefix>my</Prefix>
    <KeyMarker/>
    <VersionIdMarker/>
    <MaxKeys>5</MaxKeys>
    <IsTruncated>false</IsTruncated>
    <Version>
        <Key>my-image.jpg</Key>
        <VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId>
        <IsLatest>true</IsLatest>
         <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>
    </Version>
    <DeleteMarker>
        <Key>my-second-image.jpg</Key>
        <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>
        <IsLatest>true</IsLatest>
        <LastModified>2009-11-12T17:50:30.000Z</LastModified>
        <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>
    </DeleteMarker>
    <Version>
        <Key>my-second-image.jpg</Key>
        <VersionId>QUpfdndhfd8438MNFDN93jdnJFkdmqnh893</VersionId>
        <IsLatest>false</IsLatest>
        <LastModified>2009-10-10T17:50:30.000Z</LastModified>
        <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
        <Size>166434</Size>
        <StorageClass>STANDARD</StorageClass>
    </Version>
</ListVersionsResult>"#;

    #[test]
    fn documented_example() {
        let page = parse_list_versions(DOC_EXAMPLE.as_bytes()).unwrap();
        assert!(!page.is_truncated);
        assert_eq!(page.entries.len(), 3);
        let VersionEntry::Version(v) = &page.entries[0] else {
            panic!("{:?}", page.entries[0])
        };
        assert_eq!(
            (v.key.as_str(), v.version_id.as_str(), v.is_latest, v.size),
            ("my-image.jpg", "3/L4kqtJl40Nr8X8gdRQBpUMLUo", true, 434_234)
        );
        assert_eq!(
            v.etag.as_deref(),
            Some("\"fba9dede5f27731c9771645a39863328\"")
        );
        let VersionEntry::DeleteMarker(d) = &page.entries[1] else {
            panic!("{:?}", page.entries[1])
        };
        assert_eq!(
            (d.key.as_str(), d.version_id.as_str(), d.is_latest),
            (
                "my-second-image.jpg",
                "03jpff543dhffds434rfdsFDN943fdsFkdmqnh892",
                true
            )
        );
        let VersionEntry::Version(v) = &page.entries[2] else {
            panic!("{:?}", page.entries[2])
        };
        assert!(!v.is_latest);
        assert_eq!(v.size, 166_434);
    }

    #[test]
    fn url_encoded_keys_and_markers_are_decoded() {
        let doc = "<ListVersionsResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
                   <NextKeyMarker>a%20b</NextKeyMarker><NextVersionIdMarker>v+2</NextVersionIdMarker>\
                   <Version><Key>a%2Bb</Key><VersionId>v1</VersionId><Size>1</Size></Version>\
                   <DeleteMarker><Key>a%20b</Key><VersionId>v+2</VersionId></DeleteMarker>\
                   <CommonPrefixes><Prefix>d%2F</Prefix></CommonPrefixes></ListVersionsResult>";
        let page = parse_list_versions(doc.as_bytes()).unwrap();
        let keys: Vec<_> = page
            .entries
            .iter()
            .map(|e| match e {
                VersionEntry::Version(v) => v.key.as_str(),
                VersionEntry::DeleteMarker(d) => d.key.as_str(),
                VersionEntry::Prefix(p) => p.as_str(),
            })
            .collect();
        assert_eq!(keys, ["a+b", "a b"]);
        assert_eq!(page.common_prefixes, ["d/"]);
        assert_eq!(page.next_key_marker.as_deref(), Some("a b"));
        // Version ids are opaque: never decoded.
        assert_eq!(page.next_version_id_marker.as_deref(), Some("v+2"));
    }

    #[test]
    fn missing_fields_fail() {
        for (doc, want) in [
            (
                "<ListVersionsResult><Version><VersionId>v</VersionId><Size>1</Size></Version></ListVersionsResult>",
                "Key",
            ),
            (
                "<ListVersionsResult><Version><Key>k</Key><Size>1</Size></Version></ListVersionsResult>",
                "VersionId",
            ),
            (
                "<ListVersionsResult><Version><Key>k</Key><VersionId>v</VersionId></Version></ListVersionsResult>",
                "Size",
            ),
        ] {
            match parse_list_versions(doc.as_bytes()) {
                Err(XmlError::MissingElement(m)) => assert_eq!(m, want),
                other => panic!("{doc}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_list_versions(b"<Error><Code>NotImplemented</Code></Error>"),
            Err(XmlError::UnexpectedRoot { .. })
        ));
    }

    #[test]
    fn versioning_configuration() {
        let doc = r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Status>Enabled</Status>
</VersioningConfiguration>"#;
        assert_eq!(
            parse_versioning(doc.as_bytes()).unwrap(),
            (Some("Enabled".to_owned()), None)
        );
        let never = r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#;
        assert_eq!(parse_versioning(never.as_bytes()).unwrap(), (None, None));
        assert_eq!(
            write_versioning("Suspended", None),
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Status>Suspended</Status></VersioningConfiguration>"
        );
    }
}
