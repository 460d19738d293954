//! A small pull cursor over `quick_xml::Reader` enforcing the module's safety rules, plus the
//! value conversions (numbers, booleans, dates, percent-decoding) the parsers share.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::{MAX_DEPTH, MAX_TEXT, XmlError};

/// How many bytes of an unexpected root name an error message keeps.
const MAX_NAME_IN_ERROR: usize = 64;

/// A pull cursor over one document: elements are visited with [`XmlReader::next_child`] and
/// consumed with [`XmlReader::text`] or by iterating their own children; a child left
/// unconsumed is skipped by the next call to `next_child` on its parent.
pub(crate) struct XmlReader<'a> {
    /// The underlying tokenizer, borrowing from the (UTF-8 validated) body.
    inner: Reader<&'a [u8]>,
    /// The body, validated as UTF-8 once: text events are sliced out of it again rather than
    /// validated a second time.
    src: &'a str,
    /// How many elements are open at the tokenizer's position.
    depth: usize,
}

/// An element the cursor has entered (or an empty element `<a/>`).
pub(crate) struct Elem<'a> {
    /// The start tag, borrowing the body.
    start: BytesStart<'a>,
    /// The cursor depth while positioned inside this element.
    level: usize,
    /// Whether this is a self-closing element, which has no content.
    empty: bool,
}

impl Elem<'_> {
    /// The element's local name (any namespace prefix removed).
    pub(crate) fn name(&self) -> &[u8] {
        self.start.local_name().into_inner()
    }
}

impl<'a> XmlReader<'a> {
    /// Validates UTF-8, skips the prolog (whitespace, declaration, comments) and enters the root.
    pub(crate) fn open(body: &'a [u8]) -> Result<(Self, Elem<'a>), XmlError> {
        let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
        let mut cursor = Self {
            inner: Reader::from_str(text),
            src: text,
            depth: 0,
        };
        loop {
            match cursor.read()? {
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if is_blank(&t) => {}
                Event::Start(start) => {
                    cursor.depth = 1;
                    return Ok((
                        cursor,
                        Elem {
                            start,
                            level: 1,
                            empty: false,
                        },
                    ));
                }
                Event::Empty(start) => {
                    return Ok((
                        cursor,
                        Elem {
                            start,
                            level: 1,
                            empty: true,
                        },
                    ));
                }
                Event::Eof => return Err(malformed("no root element")),
                _ => return Err(malformed("content before the root element")),
            }
        }
    }

    /// Like [`XmlReader::open`], but the root's local name must be `expected`.
    pub(crate) fn open_root(
        body: &'a [u8],
        expected: &'static str,
    ) -> Result<(Self, Elem<'a>), XmlError> {
        let (cursor, root) = Self::open(body)?;
        if root.name() != expected.as_bytes() {
            return Err(unexpected_root(expected, root.name()));
        }
        Ok((cursor, root))
    }

    /// Enters the next child element of `parent`, or returns `None` once `parent` has closed.
    ///
    /// Text between children is ignored. A previous child that was not consumed is skipped.
    pub(crate) fn next_child(&mut self, parent: &Elem<'a>) -> Result<Option<Elem<'a>>, XmlError> {
        if parent.empty || self.depth < parent.level {
            return Ok(None);
        }
        if self.depth > parent.level {
            self.skip_to(parent.level)?;
        }
        loop {
            match self.read()? {
                Event::Start(start) => {
                    self.enter()?;
                    let level = self.depth;
                    return Ok(Some(Elem {
                        start,
                        level,
                        empty: false,
                    }));
                }
                Event::Empty(start) => {
                    if self.depth >= MAX_DEPTH {
                        return Err(XmlError::TooDeep);
                    }
                    return Ok(Some(Elem {
                        start,
                        level: self.depth + 1,
                        empty: true,
                    }));
                }
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(None);
                }
                Event::Decl(_) => return Err(malformed("XML declaration inside an element")),
                Event::Eof => return Err(unexpected_eof()),
                _ => {}
            }
        }
    }

    /// Reads the text content of `elem` (unescaped, line endings normalized) and leaves it.
    ///
    /// Borrows from the body when the text has no escapes. Elements nested inside are skipped.
    pub(crate) fn text(&mut self, elem: &Elem<'a>) -> Result<Cow<'a, str>, XmlError> {
        let mut out = Cow::Borrowed("");
        if elem.empty {
            return Ok(out);
        }
        if self.depth != elem.level {
            return Err(malformed("element text read out of order"));
        }
        loop {
            match self.read()? {
                Event::Text(t) => match self.borrowed_text(&t) {
                    Some(piece) => append(&mut out, Cow::Borrowed(piece))?,
                    None => append(&mut out, t.xml10_content().map_err(|e| decode_err(&e))?)?,
                },
                Event::CData(c) => {
                    append(&mut out, c.xml10_content().map_err(|e| decode_err(&e))?)?;
                }
                Event::GeneralRef(r) => append_ref(&mut out, &r)?,
                Event::Start(_) => {
                    self.enter()?;
                    self.skip_to(elem.level)?;
                }
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(out);
                }
                Event::Decl(_) => return Err(malformed("XML declaration inside an element")),
                Event::Eof => return Err(unexpected_eof()),
                Event::Empty(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }

    /// The text of an event as a slice of the already validated body, when it borrows from the
    /// body and needs no line-ending normalization (no `\r`): the common case, which then
    /// skips quick-xml's second UTF-8 validation. `None` sends the caller to `xml10_content`.
    fn borrowed_text(&self, raw: &[u8]) -> Option<&'a str> {
        if raw.contains(&b'\r') {
            return None;
        }
        let start = (raw.as_ptr() as usize).checked_sub(self.src.as_ptr() as usize)?;
        // `get` checks the bounds and the character boundaries: a slice that is not part of
        // the body, or not on a boundary, falls back.
        self.src.get(start..start.checked_add(raw.len())?)
    }

    /// Checks that only whitespace, comments and processing instructions follow the root.
    pub(crate) fn finish(mut self) -> Result<(), XmlError> {
        if self.depth > 0 {
            self.skip_to(0)?;
        }
        loop {
            match self.read()? {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if is_blank(&t) => {}
                _ => return Err(malformed("content after the root element")),
            }
        }
    }

    /// Reads events until the cursor is back at depth `level`.
    fn skip_to(&mut self, level: usize) -> Result<(), XmlError> {
        while self.depth > level {
            match self.read()? {
                Event::Start(_) => self.enter()?,
                Event::End(_) => self.depth -= 1,
                Event::Eof => return Err(unexpected_eof()),
                _ => {}
            }
        }
        Ok(())
    }

    /// Records that a start tag was read, enforcing the depth limit.
    fn enter(&mut self) -> Result<(), XmlError> {
        if self.depth >= MAX_DEPTH {
            return Err(XmlError::TooDeep);
        }
        self.depth += 1;
        Ok(())
    }

    /// Reads the next event, refusing a DOCTYPE wherever it appears.
    fn read(&mut self) -> Result<Event<'a>, XmlError> {
        match self.inner.read_event() {
            Ok(Event::DocType(_)) => Err(XmlError::DocType),
            Ok(event) => Ok(event),
            Err(e) => Err(XmlError::Malformed(format!(
                "{e} (at byte {})",
                self.inner.error_position()
            ))),
        }
    }
}

/// Whether a text event holds only XML whitespace.
fn is_blank(text: &[u8]) -> bool {
    text.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Extra capacity given to a text value when it first needs its own buffer: enough for an
/// ETag (32 hex digits, a multipart suffix and the closing quote) in one allocation.
const TEXT_SLACK: usize = 48;

/// Appends a decoded piece of text, enforcing [`MAX_TEXT`] and borrowing when possible.
fn append<'a>(out: &mut Cow<'a, str>, piece: Cow<'a, str>) -> Result<(), XmlError> {
    if out.len() + piece.len() > MAX_TEXT {
        return Err(XmlError::TextTooLarge);
    }
    match out {
        Cow::Borrowed("") => *out = piece,
        Cow::Borrowed(b) => {
            // Text split by references (`&quot;abc&quot;`, as every ETag in a listing is):
            // allocate once with room for the usual rest instead of growing piece by piece.
            let mut owned = String::with_capacity(b.len() + piece.len() + TEXT_SLACK);
            owned.push_str(b);
            owned.push_str(&piece);
            *out = Cow::Owned(owned);
        }
        Cow::Owned(o) => o.push_str(&piece),
    }
    Ok(())
}

/// Appends the expansion of a predefined entity or character reference; anything else is an
/// undefined entity (there is no DTD to define one).
fn append_ref(out: &mut Cow<'_, str>, r: &BytesRef<'_>) -> Result<(), XmlError> {
    let expansion = match &**r {
        b"amp" => "&",
        b"lt" => "<",
        b"gt" => ">",
        b"quot" => "\"",
        b"apos" => "'",
        _ => {
            let ch = r
                .resolve_char_ref()
                .map_err(|e| XmlError::Malformed(e.to_string()))?
                .ok_or_else(|| malformed("reference to an undefined entity"))?;
            let mut buf = [0; 4];
            return append(out, Cow::Owned(ch.encode_utf8(&mut buf).to_owned()));
        }
    };
    append(out, Cow::Borrowed(expansion))
}

/// A `Malformed` error with a fixed description.
fn malformed(what: &str) -> XmlError {
    XmlError::Malformed(what.to_owned())
}

/// The error for a document that ends before its root element closes.
fn unexpected_eof() -> XmlError {
    malformed("unexpected end of document")
}

/// Maps a text decoding failure (cannot happen on validated UTF-8, but never panic).
fn decode_err(e: &quick_xml::encoding::EncodingError) -> XmlError {
    XmlError::Malformed(e.to_string())
}

/// The error for a root element other than `expected`, keeping a bounded copy of its name.
pub(crate) fn unexpected_root(expected: &'static str, found: &[u8]) -> XmlError {
    let found = &found[..found.len().min(MAX_NAME_IN_ERROR)];
    XmlError::UnexpectedRoot {
        expected,
        found: String::from_utf8_lossy(found).into_owned(),
    }
}

/// Parses a decimal `u64` (surrounding whitespace allowed).
pub(crate) fn parse_u64(text: &str, field: &'static str) -> Result<u64, XmlError> {
    text.trim()
        .parse()
        .map_err(|_| XmlError::InvalidValue(field))
}

/// Parses a decimal `u32` (surrounding whitespace allowed).
pub(crate) fn parse_u32(text: &str, field: &'static str) -> Result<u32, XmlError> {
    text.trim()
        .parse()
        .map_err(|_| XmlError::InvalidValue(field))
}

/// Parses `true` or `false` (ASCII case-insensitive, surrounding whitespace allowed).
pub(crate) fn parse_bool(text: &str, field: &'static str) -> Result<bool, XmlError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(XmlError::InvalidValue(field))
    }
}

/// Parses an ISO 8601 / RFC 3339 timestamp such as `2009-10-12T17:50:30.000Z`. A time past
/// year 9999 in UTC (reachable through an offset) is `InvalidValue`: no date format could
/// write it back.
pub(crate) fn parse_date(
    text: &str,
    field: &'static str,
) -> Result<std::time::SystemTime, XmlError> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .filter(|t| t.checked_to_offset(time::UtcOffset::UTC).is_some())
        .map(std::time::SystemTime::from)
        .ok_or(XmlError::InvalidValue(field))
}

/// Text that is `None` when empty.
pub(crate) fn non_empty(text: Cow<'_, str>) -> Option<String> {
    (!text.is_empty()).then(|| text.into_owned())
}

/// Decodes `%XX` escapes (as sent with `encoding-type=url`) into bytes, then UTF-8.
///
/// `+` is kept as is. A malformed escape or a result that is not UTF-8 is `InvalidValue`.
pub(crate) fn percent_decode(text: String, field: &'static str) -> Result<String, XmlError> {
    if !text.contains(['%', '+']) {
        return Ok(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(XmlError::InvalidValue(field));
            };
            out.push(hi << 4 | lo);
            i += 3;
        } else if bytes[i] == b'+' {
            // Form encoding, as S3 uses it: a literal '+' arrives as %2B, '+' means space.
            out.push(b' ');
            i += 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| XmlError::InvalidValue(field))
}

/// The value of one ASCII hex digit.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    fn texts(doc: &str) -> Result<Vec<(String, String)>, XmlError> {
        let (mut r, root) = XmlReader::open(doc.as_bytes())?;
        let mut out = Vec::new();
        while let Some(child) = r.next_child(&root)? {
            let name = String::from_utf8_lossy(child.name()).into_owned();
            out.push((name, r.text(&child)?.into_owned()));
        }
        r.finish()?;
        Ok(out)
    }

    #[test]
    fn text_unescapes_and_borrows() {
        let doc = "<r><a>plain</a><b>&quot;x&quot; &amp; &#x41;&#66;</b><c><![CDATA[<raw>]]></c>\
                   <d/><e>a\r\nb</e></r>";
        let got = texts(doc).unwrap();
        let want = [
            ("a", "plain"),
            ("b", "\"x\" & AB"),
            ("c", "<raw>"),
            ("d", ""),
            ("e", "a\nb"),
        ];
        assert_eq!(got.len(), want.len());
        for ((n, v), (wn, wv)) in got.iter().zip(want) {
            assert_eq!((n.as_str(), v.as_str()), (wn, wv));
        }
        let (mut r, root) = XmlReader::open(b"<r><a>plain</a></r>").unwrap();
        let child = r.next_child(&root).unwrap().unwrap();
        assert!(matches!(r.text(&child).unwrap(), Cow::Borrowed("plain")));
    }

    #[test]
    fn unconsumed_children_are_skipped() {
        let doc = "<r><skip><x><y>1</y></x></skip><k>v</k><skip/></r>";
        let (mut r, root) = XmlReader::open(doc.as_bytes()).unwrap();
        let mut seen = Vec::new();
        while let Some(child) = r.next_child(&root).unwrap() {
            if child.name() == b"k" {
                seen.push(r.text(&child).unwrap().into_owned());
            }
        }
        r.finish().unwrap();
        assert_eq!(seen, ["v"]);
    }

    #[test]
    fn namespaces_are_ignored() {
        let got = texts(r#"<s3:r xmlns:s3="urn:x"><s3:a>1</s3:a></s3:r>"#).unwrap();
        assert_eq!(got, [("a".to_owned(), "1".to_owned())]);
    }

    #[test]
    fn undefined_entity_is_malformed() {
        assert!(matches!(
            texts("<r><a>&foo;</a></r>"),
            Err(XmlError::Malformed(_))
        ));
    }

    #[test]
    fn trailing_content_is_malformed() {
        assert!(texts("<r/> <!-- ok --> ").is_ok());
        assert!(matches!(texts("<r/><r/>"), Err(XmlError::Malformed(_))));
        assert!(matches!(texts("<r/>junk"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn text_limit_counts_unescaped_pieces() {
        let at_limit = format!("<r><a>{}</a></r>", "x".repeat(MAX_TEXT - 1) + "&amp;");
        assert_eq!(texts(&at_limit).unwrap()[0].1.len(), MAX_TEXT);
        let over = format!("<r><a>&amp;{}</a></r>", "x".repeat(MAX_TEXT));
        assert!(matches!(texts(&over), Err(XmlError::TextTooLarge)));
    }

    #[test]
    fn depth_limit_is_exact() {
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        let (mut r, _root) = XmlReader::open(ok.as_bytes()).unwrap();
        r.skip_to(0).unwrap();
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        let (mut r, _root) = XmlReader::open(deep.as_bytes()).unwrap();
        assert!(matches!(r.skip_to(0), Err(XmlError::TooDeep)));
        let deep_empty = format!(
            "{}<a/>{}",
            "<a>".repeat(MAX_DEPTH),
            "</a>".repeat(MAX_DEPTH)
        );
        let (mut r, root) = XmlReader::open(deep_empty.as_bytes()).unwrap();
        let mut parent = root;
        let err = loop {
            match r.next_child(&parent) {
                Ok(Some(child)) => parent = child,
                Ok(None) => panic!("reached the bottom"),
                Err(e) => break e,
            }
        };
        assert!(matches!(err, XmlError::TooDeep));
    }

    #[test]
    fn values() {
        assert_eq!(parse_u64(" 42\n", "Size").unwrap(), 42);
        assert!(matches!(
            parse_u64("-1", "Size"),
            Err(XmlError::InvalidValue("Size"))
        ));
        assert!(matches!(
            parse_u64("", "Size"),
            Err(XmlError::InvalidValue("Size"))
        ));
        assert!(parse_bool("TRUE", "b").unwrap());
        assert!(!parse_bool("false", "b").unwrap());
        assert!(parse_bool("yes", "b").is_err());
        let d = parse_date("2009-10-12T17:50:30.000Z", "d").unwrap();
        assert_eq!(
            d.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            1_255_369_830
        );
        assert!(parse_date("2009-10-12", "d").is_err());
        assert!(parse_date("yesterday", "d").is_err());
        // A date that is past year 9999 in UTC cannot be written back: refused when read.
        assert!(parse_date("9999-12-31T23:59:59-05:00", "d").is_err());
        assert!(parse_date("9999-12-31T23:59:59+05:00", "d").is_ok());
    }

    #[test]
    fn text_reuses_the_body_and_normalizes_line_ends() {
        let (mut r, root) =
            XmlReader::open(b"<r><a>x&amp;y\r\nz</a><b>caf\xc3\xa9</b></r>").unwrap();
        let a = r.next_child(&root).unwrap().unwrap();
        assert_eq!(r.text(&a).unwrap(), "x&y\nz");
        let b = r.next_child(&root).unwrap().unwrap();
        assert!(matches!(r.text(&b).unwrap(), Cow::Borrowed("caf\u{e9}")));
    }

    #[test]
    fn percent_decoding() {
        let dec = |s: &str| percent_decode(s.to_owned(), "Key");
        assert_eq!(dec("a%20b").unwrap(), "a b");
        assert_eq!(dec("a%2Bb").unwrap(), "a+b");
        assert_eq!(dec("a+b").unwrap(), "a b");
        assert_eq!(dec("%E6%97%A5").unwrap(), "日");
        assert_eq!(dec("%e6%97%a5%25").unwrap(), "日%");
        assert!(dec("%").is_err());
        assert!(dec("%2").is_err());
        assert!(dec("%zz").is_err());
        assert!(dec("%FF").is_err());
        assert!(dec("%E6%97").is_err());
    }
}
