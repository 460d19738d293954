//! Tagging documents: `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>`, the
//! body of Get/PutObjectTagging and Get/PutBucketTagging.

use super::error::XmlError;
use super::reader::XmlReader;
use super::write::{S3_NAMESPACE, escape_into};

/// Parses a `<Tagging>` document into `(key, value)` pairs in the server's order.
///
/// # Errors
///
/// `UnexpectedRoot` for another root; `MissingElement("Key")` for a tag without a key; the
/// structural errors.
pub(crate) fn parse_tagging(body: &[u8]) -> Result<Vec<(String, String)>, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "Tagging")?;
    let mut tags = Vec::new();
    while let Some(set) = r.next_child(&root)? {
        if set.name() != b"TagSet" {
            continue;
        }
        while let Some(tag) = r.next_child(&set)? {
            if tag.name() != b"Tag" {
                continue;
            }
            let (mut key, mut value) = (None, String::new());
            while let Some(c) = r.next_child(&tag)? {
                match c.name() {
                    b"Key" => key = Some(r.text(&c)?.into_owned()),
                    b"Value" => value = r.text(&c)?.into_owned(),
                    _ => {}
                }
            }
            tags.push((key.ok_or(XmlError::MissingElement("Key"))?, value));
        }
    }
    r.finish()?;
    Ok(tags)
}

/// Builds a `<Tagging>` body.
///
/// # Errors
///
/// `UnrepresentableChar` when a key or value holds a character XML 1.0 cannot carry.
pub(crate) fn write_tagging(tags: &[(String, String)]) -> Result<String, XmlError> {
    let mut out = String::with_capacity(
        100 + tags
            .iter()
            .map(|(k, v)| k.len() + v.len() + 40)
            .sum::<usize>(),
    );
    out.push_str("<Tagging xmlns=\"");
    out.push_str(S3_NAMESPACE);
    out.push_str("\"><TagSet>");
    for (k, v) in tags {
        out.push_str("<Tag><Key>");
        if !escape_into(&mut out, k) {
            return Err(XmlError::UnrepresentableChar("Key"));
        }
        out.push_str("</Key><Value>");
        if !escape_into(&mut out, v) {
            return Err(XmlError::UnrepresentableChar("Value"));
        }
        out.push_str("</Value></Tag>");
    }
    out.push_str("</TagSet></Tagging>");
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn documented_example_and_round_trip() {
        // The example answer of the GetObjectTagging API reference.
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <TagSet>
     <Tag>
       <Key>tag1</Key>
       <Value>val1</Value>
     </Tag>
  </TagSet>
</Tagging>"#;
        assert_eq!(
            parse_tagging(doc.as_bytes()).unwrap(),
            [("tag1".to_owned(), "val1".to_owned())]
        );
        let tags = vec![
            ("a&b".to_owned(), "<x>".to_owned()),
            ("empty".to_owned(), String::new()),
        ];
        let body = write_tagging(&tags).unwrap();
        assert!(body.contains("<Tag><Key>a&amp;b</Key><Value>&lt;x&gt;</Value></Tag>"));
        assert_eq!(parse_tagging(body.as_bytes()).unwrap(), tags);
        assert!(matches!(
            write_tagging(&[("k".to_owned(), "\u{1}".to_owned())]),
            Err(XmlError::UnrepresentableChar("Value"))
        ));
        assert!(matches!(
            parse_tagging(b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>"),
            Err(XmlError::MissingElement("Key"))
        ));
    }
}
