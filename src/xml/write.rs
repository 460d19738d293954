//! Request bodies: DeleteObjects, CreateBucket, CompleteMultipartUpload.
//!
//! Plain string building with escaping: `&`, `<`, `>`, `"` and `'` become entities and a
//! carriage return becomes `&#xD;` (a raw one would be read back as a line feed). Characters
//! XML 1.0 cannot carry at all (C0 controls other than tab, LF and CR; U+FFFE; U+FFFF) are
//! refused where the value is user input (keys) and dropped where it comes from the server or
//! validated configuration (ETags, region names), which never contain them.

use std::fmt::Write as _;

use super::error::XmlError;
use crate::types::PartInfo;

/// The S3 namespace written on the root of every request document.
pub(super) const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Builds a DeleteObjects `<Delete>` body for `(key, version_id)` pairs.
///
/// `<Quiet>true</Quiet>` is written when `quiet` is set (the response then lists only errors).
///
/// # Errors
///
/// `UnrepresentableChar` if a key or version id holds a character XML 1.0 cannot carry.
pub(crate) fn write_delete_objects(
    keys: &[(&str, Option<&str>)],
    quiet: bool,
) -> Result<String, XmlError> {
    let capacity = 80
        + keys
            .iter()
            .map(|(k, v)| k.len() + v.map_or(0, str::len) + 48)
            .sum::<usize>();
    let mut out = String::with_capacity(capacity);
    out.push_str("<Delete xmlns=\"");
    out.push_str(S3_NAMESPACE);
    out.push_str("\">");
    if quiet {
        out.push_str("<Quiet>true</Quiet>");
    }
    for (key, version_id) in keys {
        out.push_str("<Object><Key>");
        if !escape_into(&mut out, key) {
            return Err(XmlError::UnrepresentableChar("Key"));
        }
        out.push_str("</Key>");
        if let Some(version_id) = version_id {
            out.push_str("<VersionId>");
            if !escape_into(&mut out, version_id) {
                return Err(XmlError::UnrepresentableChar("VersionId"));
            }
            out.push_str("</VersionId>");
        }
        out.push_str("</Object>");
    }
    out.push_str("</Delete>");
    Ok(out)
}

/// Builds a CreateBucket `<CreateBucketConfiguration>` body; `None` (us-east-1) is an empty
/// string, meaning no body at all.
pub(crate) fn write_create_bucket(location: Option<&str>) -> String {
    let Some(location) = location else {
        return String::new();
    };
    let mut out = String::with_capacity(160 + location.len());
    out.push_str("<CreateBucketConfiguration xmlns=\"");
    out.push_str(S3_NAMESPACE);
    out.push_str("\"><LocationConstraint>");
    escape_into(&mut out, location);
    out.push_str("</LocationConstraint></CreateBucketConfiguration>");
    out
}

/// Builds a `<CompleteMultipartUpload>` body listing each part's number, ETag and checksum
/// (`<ChecksumCRC32C>` etc., when the part has one other than `Content-MD5`), in the order
/// given (S3 requires ascending part numbers; ordering is the caller's job).
pub(crate) fn write_complete_multipart(parts: &[PartInfo]) -> String {
    let capacity = 100 + parts.iter().map(|p| p.etag.len() + 160).sum::<usize>();
    let mut out = String::with_capacity(capacity);
    out.push_str("<CompleteMultipartUpload xmlns=\"");
    out.push_str(S3_NAMESPACE);
    out.push_str("\">");
    for part in parts {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "<Part><PartNumber>{}</PartNumber><ETag>",
            part.part_number
        );
        escape_into(&mut out, &part.etag);
        out.push_str("</ETag>");
        if let Some((alg, value)) = &part.checksum
            && let Some(element) = alg.xml_element()
        {
            let _ = write!(out, "<{element}>");
            escape_into(&mut out, value);
            let _ = write!(out, "</{element}>");
        }
        out.push_str("</Part>");
    }
    out.push_str("</CompleteMultipartUpload>");
    out
}

/// Appends `text` escaped for element content. Characters XML 1.0 cannot represent are left
/// out, and then `false` is returned.
pub(super) fn escape_into(out: &mut String, text: &str) -> bool {
    let mut representable = true;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            '\r' => "&#xD;",
            '\t' | '\n' => continue,
            '\0'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                representable = false;
                ""
            }
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(replacement);
        start = i + c.len_utf8();
    }
    out.push_str(&text[start..]);
    representable
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::xml::reader::XmlReader;

    /// A deliberately naive reader, independent of quick-xml: the text of every `<Key>`.
    fn naive_keys(doc: &str) -> Vec<String> {
        doc.split("<Key>")
            .skip(1)
            .map(|rest| {
                let raw = &rest[..rest.find("</Key>").expect("closed key")];
                assert!(
                    !raw.contains('<') && !raw.contains('\r'),
                    "unescaped: {raw:?}"
                );
                naive_unescape(raw)
            })
            .collect()
    }

    /// Expands the entities the writer may produce.
    fn naive_unescape(raw: &str) -> String {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(amp) = rest.find('&') {
            out.push_str(&rest[..amp]);
            let semi = rest[amp..].find(';').expect("terminated entity") + amp;
            out.push_str(match &rest[amp + 1..semi] {
                "amp" => "&",
                "lt" => "<",
                "gt" => ">",
                "quot" => "\"",
                "apos" => "'",
                "#xD" => "\r",
                other => panic!("unexpected entity {other}"),
            });
            rest = &rest[semi + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The keys and version ids of a Delete body, read back through the module's own reader.
    fn parsed_objects(doc: &str) -> Vec<(String, Option<String>)> {
        let (mut r, root) = XmlReader::open(doc.as_bytes()).unwrap();
        assert_eq!(root.name(), b"Delete");
        let mut out = Vec::new();
        while let Some(obj) = r.next_child(&root).unwrap() {
            if obj.name() != b"Object" {
                continue;
            }
            let (mut key, mut version) = (None, None);
            while let Some(c) = r.next_child(&obj).unwrap() {
                match c.name() {
                    b"Key" => key = Some(r.text(&c).unwrap().into_owned()),
                    b"VersionId" => version = Some(r.text(&c).unwrap().into_owned()),
                    _ => {}
                }
            }
            out.push((key.unwrap(), version));
        }
        r.finish().unwrap();
        out
    }

    #[test]
    fn delete_objects_escapes_and_round_trips() {
        let tricky = "a<&>\"'b/日本語/🦀 +%20\ttab\nline\rcr";
        let doc = write_delete_objects(&[(tricky, Some("v&1")), ("plain", None)], true).unwrap();
        assert_eq!(
            doc,
            "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>\
             <Object><Key>a&lt;&amp;&gt;&quot;&apos;b/日本語/🦀 +%20\ttab\nline&#xD;cr</Key>\
             <VersionId>v&amp;1</VersionId></Object><Object><Key>plain</Key></Object></Delete>"
        );
        assert_eq!(naive_keys(&doc), [tricky, "plain"]);
        assert_eq!(
            parsed_objects(&doc),
            [
                (tricky.to_owned(), Some("v&1".to_owned())),
                ("plain".to_owned(), None)
            ]
        );
        let loud = write_delete_objects(&[("k", None)], false).unwrap();
        assert!(!loud.contains("Quiet"));
    }

    #[test]
    fn delete_objects_refuses_control_characters() {
        for bad in [
            "a\u{0}b",
            "\u{1}",
            "x\u{1b}[0m",
            "\u{1f}",
            "\u{fffe}",
            "\u{ffff}",
        ] {
            assert!(
                matches!(
                    write_delete_objects(&[("ok", None), (bad, None)], false),
                    Err(XmlError::UnrepresentableChar("Key"))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            write_delete_objects(&[("ok", Some("v\u{7}"))], false),
            Err(XmlError::UnrepresentableChar("VersionId"))
        ));
        // DEL and C1 controls are legal XML 1.0 characters.
        assert!(write_delete_objects(&[("\u{7f}\u{85}", None)], false).is_ok());
    }

    #[test]
    fn create_bucket() {
        assert_eq!(write_create_bucket(None), "");
        assert_eq!(
            write_create_bucket(Some("eu-west-1")),
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"
        );
        assert!(write_create_bucket(Some("a<b")).contains("a&lt;b"));
    }

    #[test]
    fn complete_multipart() {
        let parts = [
            PartInfo::new(1, "\"a54357aff0632cce46d942af68356b38\""),
            PartInfo::new(2, "\"0c78aef83f66abc1fa1e8477f296d394\""),
        ];
        assert_eq!(
            write_complete_multipart(&parts),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Part><PartNumber>1</PartNumber><ETag>&quot;a54357aff0632cce46d942af68356b38&quot;\
             </ETag></Part><Part><PartNumber>2</PartNumber><ETag>\
             &quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag></Part></CompleteMultipartUpload>"
        );
        let with_sums = [
            PartInfo::new(1, "\"e1\"").with_checksum(crate::ChecksumAlgorithm::Crc32c, "yZRlqg=="),
            PartInfo::new(2, "\"e2\"").with_checksum(crate::ChecksumAlgorithm::ContentMd5, "x"),
        ];
        assert_eq!(
            write_complete_multipart(&with_sums),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag>\
             <ChecksumCRC32C>yZRlqg==</ChecksumCRC32C></Part>\
             <Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>\
             </CompleteMultipartUpload>"
        );
        assert_eq!(
            write_complete_multipart(&[]),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             </CompleteMultipartUpload>"
        );
    }

    /// Any char XML 1.0 can carry (C0 controls other than tab, LF and CR excluded).
    fn xml_char() -> impl Strategy<Value = char> {
        any::<char>().prop_filter("XML 1.0 character", |c| {
            !matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
        })
    }

    /// Keys biased towards the characters that need escaping.
    fn key() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            '&', '<', '>', '"', '\'', '\r', '\n', '\t', ' ', ';', '#',
        ]);
        prop::collection::vec(prop_oneof![xml_char(), special], 0..40)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn written_keys_read_back(keys in prop::collection::vec((key(), prop::option::of(key())), 0..8), quiet: bool) {
            let pairs: Vec<(&str, Option<&str>)> =
                keys.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
            let doc = write_delete_objects(&pairs, quiet).unwrap();
            let naive = naive_keys(&doc);
            let expected: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
            prop_assert_eq!(naive, expected);
            prop_assert_eq!(parsed_objects(&doc), keys);
        }

        #[test]
        fn control_characters_are_refused(prefix in key(), c in 0u8..0x20, suffix in key()) {
            let c = char::from(c);
            prop_assume!(!matches!(c, '\t' | '\n' | '\r'));
            let bad = format!("{prefix}{c}{suffix}");
            prop_assert!(write_delete_objects(&[(&bad, None)], false).is_err());
        }
    }
}
