//! A fast path for the two big listings, ListObjectsV2 and ListObjectVersions: a scanner that
//! walks the page's bytes once and hands out keys, entity tags and storage classes as slices
//! of the page ([`Text`] over the page's `Bytes`), so a 1000-key page costs no allocation per
//! key.
//!
//! It understands a strict subset of XML, the shape S3 and its clones send: an optional
//! `<?xml …?>` declaration, a root with plain attributes, and below it elements without
//! attributes or namespace prefixes, text with the five predefined entities and character
//! references, and empty elements `<a/>`. Values with a reference are unescaped into one
//! shared buffer per page (again no allocation per key); `encoding-type=url` keys are decoded
//! the same way. Sizes and `YYYY-MM-DDTHH:MM:SS[.fff]Z` dates are parsed by hand, other date
//! shapes by the shared parser.
//!
//! Anything else — CDATA, comments, processing instructions, a DOCTYPE, attributes below the
//! root, a carriage return in a value, an unknown reference, nesting deeper than
//! [`MAX_SCAN_DEPTH`], a value that does not parse, a missing element, any malformation — makes
//! the scanner give up, and the whole page goes to the reference parser (`list.rs`,
//! `versioning.rs`), so the result is the reference's on every page the scanner does not
//! accept, errors and limits included. On the pages it accepts it returns what the reference
//! returns; `scan_tests.rs` holds it to that on generated and mutated pages, as does the
//! `list_scan` fuzz target (`fuzz/`).

use std::ops::Range;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};

use super::error::{MAX_TEXT, XmlError};
use super::reader::{parse_bool, parse_u64, percent_decode};
use super::scan_values::{date, find_special, hex_digit, size, text_end, unescape};
use crate::types::{
    DeleteMarkerEntry, ListPage, ObjectInfo, ObjectVersion, Text, VersionEntry, VersionsPage,
};

/// The deepest nesting (the root is depth 1) the scanner follows; a deeper page goes to the
/// reference parser (whose limit, 64, is therefore never reached on the fast path).
const MAX_SCAN_DEPTH: usize = 16;

/// Parses a ListObjectsV2 `<ListBucketResult>` page: the scanner, else the reference parser.
///
/// # Errors
///
/// As [`parse_list_objects_v2`](super::list::parse_list_objects_v2), which decides every page
/// the scanner does not accept.
pub(crate) fn scan_list_objects_v2(body: &Bytes) -> Result<ListPage, XmlError> {
    match list_objects_v2(body) {
        Some(page) => Ok(page),
        None => super::list::parse_list_objects_v2(body),
    }
}

/// Parses a ListObjectVersions `<ListVersionsResult>` page: the scanner, else the reference
/// parser.
///
/// # Errors
///
/// As [`parse_list_versions`](super::versioning::parse_list_versions), which decides every
/// page the scanner does not accept.
pub(crate) fn scan_list_versions(body: &Bytes) -> Result<VersionsPage, XmlError> {
    match list_versions(body) {
        Some(page) => Ok(page),
        None => super::versioning::parse_list_versions(body),
    }
}

/// The scanner's ListObjectsV2 page, or `None` to hand the page to the reference parser.
pub(super) fn list_objects_v2(body: &Bytes) -> Option<ListPage> {
    const ROOT: &[u8] = b"ListBucketResult";
    // UTF-8 checked once for the whole page; every key is then a slice of it.
    let whole = Text::from_utf8_bytes(body.clone())?;
    let mut s = Scanner::open(&whole, ROOT)?;
    let mut page = ListPage::default();
    let mut url = false;
    loop {
        s.between()?;
        match s.tag()? {
            Tag::Close(name) if name == ROOT => break,
            Tag::Close(_) => return None,
            Tag::Empty(name) => match name {
                b"NextContinuationToken" => page.next_continuation_token = None,
                b"EncodingType" => url = false,
                b"Contents" | b"IsTruncated" | b"KeyCount" => return None,
                _ => {}
            },
            Tag::Open(name) => match name {
                b"Contents" => {
                    let e = s.entry(name, false)?;
                    page.objects.push(ObjectInfo {
                        key: e.key?,
                        size: e.size?,
                        last_modified: e.last_modified,
                        etag: e.etag,
                        storage_class: e.storage_class,
                    });
                }
                b"CommonPrefixes" => s.prefixes(name, &mut page.common_prefixes)?,
                b"IsTruncated" => {
                    let raw = s.leaf(name)?;
                    page.is_truncated = parse_bool(s.plain(&raw)?, "IsTruncated").ok()?;
                }
                b"NextContinuationToken" => {
                    let raw = s.leaf(name)?;
                    page.next_continuation_token = non_empty(s.string(&raw)?);
                }
                b"KeyCount" => {
                    let raw = s.leaf(name)?;
                    let count = parse_u64(s.plain(&raw)?, "KeyCount").ok()?;
                    page.key_count = Some(count);
                    let room = usize::try_from(count.min(1000)).unwrap_or(0);
                    page.objects
                        .reserve(room.saturating_sub(page.objects.len()));
                }
                b"EncodingType" => {
                    let raw = s.leaf(name)?;
                    url = s.string(&raw)?.trim().eq_ignore_ascii_case("url");
                }
                _ => s.skip(name, 2)?,
            },
        }
    }
    s.finish()?;
    if url {
        for object in &mut page.objects {
            object.key = s.url_decode(&object.key)?;
        }
        for prefix in &mut page.common_prefixes {
            *prefix = percent_decode(std::mem::take(prefix), "Prefix").ok()?;
        }
    }
    Some(page)
}

/// The scanner's ListObjectVersions page, or `None` to hand the page to the reference parser.
pub(super) fn list_versions(body: &Bytes) -> Option<VersionsPage> {
    const ROOT: &[u8] = b"ListVersionsResult";
    // UTF-8 checked once for the whole page; every key is then a slice of it.
    let whole = Text::from_utf8_bytes(body.clone())?;
    let mut s = Scanner::open(&whole, ROOT)?;
    let mut page = VersionsPage::default();
    let mut url = false;
    loop {
        s.between()?;
        match s.tag()? {
            Tag::Close(name) if name == ROOT => break,
            Tag::Close(_) => return None,
            Tag::Empty(name) => match name {
                b"NextKeyMarker" => page.next_key_marker = None,
                b"NextVersionIdMarker" => page.next_version_id_marker = None,
                b"EncodingType" => url = false,
                b"Version" | b"DeleteMarker" | b"IsTruncated" => return None,
                _ => {}
            },
            Tag::Open(name) => match name {
                b"Version" => {
                    let e = s.entry(name, true)?;
                    // The reference reads a missing Size as u64::MAX, then refuses that.
                    let size = e.size.filter(|n| *n != u64::MAX)?;
                    page.entries.push(VersionEntry::Version(ObjectVersion {
                        key: e.key?,
                        version_id: e.version_id?,
                        is_latest: e.is_latest,
                        size,
                        last_modified: e.last_modified,
                        etag: e.etag,
                        storage_class: e.storage_class,
                    }));
                }
                b"DeleteMarker" => {
                    let e = s.entry(name, true)?;
                    page.entries
                        .push(VersionEntry::DeleteMarker(DeleteMarkerEntry {
                            key: e.key?,
                            version_id: e.version_id?,
                            is_latest: e.is_latest,
                            last_modified: e.last_modified,
                        }));
                }
                b"CommonPrefixes" => s.prefixes(name, &mut page.common_prefixes)?,
                b"IsTruncated" => {
                    let raw = s.leaf(name)?;
                    page.is_truncated = parse_bool(s.plain(&raw)?, "IsTruncated").ok()?;
                }
                b"NextKeyMarker" => {
                    let raw = s.leaf(name)?;
                    page.next_key_marker = non_empty(s.string(&raw)?);
                }
                b"NextVersionIdMarker" => {
                    let raw = s.leaf(name)?;
                    page.next_version_id_marker = non_empty(s.string(&raw)?);
                }
                b"EncodingType" => {
                    let raw = s.leaf(name)?;
                    url = s.string(&raw)?.trim().eq_ignore_ascii_case("url");
                }
                _ => s.skip(name, 2)?,
            },
        }
    }
    s.finish()?;
    if url {
        for e in &mut page.entries {
            let key = match e {
                VersionEntry::Version(v) => &mut v.key,
                VersionEntry::DeleteMarker(d) => &mut d.key,
                VersionEntry::Prefix(_) => continue,
            };
            *key = s.url_decode(key)?;
        }
        for prefix in &mut page.common_prefixes {
            *prefix = percent_decode(std::mem::take(prefix), "Key").ok()?;
        }
        if let Some(m) = page.next_key_marker.take() {
            page.next_key_marker = Some(percent_decode(m, "NextKeyMarker").ok()?);
        }
    }
    Some(page)
}

/// Text that is `None` when empty (as the reference's `non_empty`).
fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A tag the scanner read.
enum Tag<'a> {
    /// `<name>`.
    Open(&'a [u8]),
    /// `<name/>`.
    Empty(&'a [u8]),
    /// `</name>`.
    Close(&'a [u8]),
}

/// The raw text of a leaf element: where it is in the page, and whether it holds a reference
/// or a carriage return (which take the slow path).
struct Raw {
    range: Range<usize>,
    special: bool,
}

/// The fields of a `<Contents>`, `<Version>` or `<DeleteMarker>`.
#[derive(Default)]
struct Entry {
    key: Option<Text>,
    version_id: Option<String>,
    is_latest: bool,
    size: Option<u64>,
    last_modified: Option<SystemTime>,
    etag: Option<Text>,
    storage_class: Option<Text>,
}

/// A cursor over one page, validated as UTF-8 once.
struct Scanner<'a> {
    /// The page, for zero-copy slices.
    page: &'a Text,
    /// The page as text.
    text: &'a str,
    /// The page's bytes (`text.as_bytes()`).
    src: &'a [u8],
    /// Where the scanner is.
    pos: usize,
    /// Unescaped and decoded values, split off as each is finished: one allocation for many
    /// values.
    side: BytesMut,
    /// Reused for unescaping and decoding.
    scratch: Vec<u8>,
}

impl<'a> Scanner<'a> {
    /// Validates the page, passes the declaration and enters the root, which must be named
    /// `root` and have only plain attributes.
    fn open(page: &'a Text, root: &[u8]) -> Option<Self> {
        let text = page.as_str();
        let src = text.as_bytes();
        let mut pos = skip_blank(src, 0);
        if src[pos..].starts_with(b"<?xml") && src.get(pos + 5).is_some_and(|b| is_blank(*b)) {
            let len = src[pos..].windows(2).position(|w| w == b"?>")?;
            if src[pos + 2..pos + len]
                .iter()
                .any(|b| matches!(b, b'<' | b'>' | b'&'))
            {
                return None;
            }
            pos = skip_blank(src, pos + len + 2);
        }
        let name_end = pos + 1 + root.len();
        if src.get(pos) != Some(&b'<') || src.get(pos + 1..name_end) != Some(root) {
            return None;
        }
        pos = match src.get(name_end)? {
            b'>' => name_end + 1,
            b if is_blank(*b) => {
                // Attributes (`xmlns`): quotes must close before the first `>`, with no markup
                // and no self-closing slash.
                let len = src[name_end..].iter().position(|b| *b == b'>')?;
                let attrs = &src[name_end..name_end + len];
                let mut quote = None;
                for &b in attrs {
                    match (quote, b) {
                        (None, b'"' | b'\'') => quote = Some(b),
                        (Some(q), _) if b == q => quote = None,
                        (_, b'<' | b'&') => return None,
                        _ => {}
                    }
                }
                if quote.is_some() || attrs.iter().rev().find(|b| !is_blank(**b)) == Some(&b'/') {
                    return None;
                }
                name_end + len + 1
            }
            _ => return None,
        };
        Some(Self {
            page,
            text,
            src,
            pos,
            side: BytesMut::new(),
            scratch: Vec::new(),
        })
    }

    /// Passes the text before the next tag (ignored, as the reference ignores it, but its
    /// references must be ones the reference accepts).
    fn between(&mut self) -> Option<()> {
        let rest = &self.src[self.pos..];
        let len = rest.iter().position(|b| *b == b'<')?;
        let text = &rest[..len];
        if text.contains(&b'&') {
            unescape(text, None)?;
        }
        self.pos += len;
        Some(())
    }

    /// Reads the tag at `<`: only `<name>`, `<name/>` and `</name>` with plain names.
    fn tag(&mut self) -> Option<Tag<'a>> {
        let src = self.src;
        let close = src.get(self.pos + 1) == Some(&b'/');
        let start = self.pos + 1 + usize::from(close);
        let len = match known_name(&src[start..]) {
            Some(len) => len,
            None => src[start..].iter().position(|b| !is_name_byte(*b))?,
        };
        if len == 0 {
            return None;
        }
        let name = &src[start..start + len];
        let end = start + len;
        match (src[end], close) {
            (b'>', false) => {
                self.pos = end + 1;
                Some(Tag::Open(name))
            }
            (b'>', true) => {
                self.pos = end + 1;
                Some(Tag::Close(name))
            }
            (b'/', false) if src.get(end + 1) == Some(&b'>') => {
                self.pos = end + 2;
                Some(Tag::Empty(name))
            }
            _ => None,
        }
    }

    /// Reads the text of the leaf element `name` just opened, through its end tag, which must
    /// follow the text directly.
    fn leaf(&mut self, name: &[u8]) -> Option<Raw> {
        let src = self.src;
        let start = self.pos;
        let (end, special) = text_end(src, start)?;
        let after = end + 2 + name.len();
        if end - start > MAX_TEXT
            || src.get(end + 1) != Some(&b'/')
            || src.get(end + 2..after) != Some(name)
            || src.get(after) != Some(&b'>')
        {
            return None;
        }
        self.pos = after + 1;
        Some(Raw {
            range: start..end,
            special,
        })
    }

    /// A value that needs no unescaping, as text (a number, a boolean, a date).
    fn plain(&self, raw: &Raw) -> Option<&'a str> {
        if raw.special {
            return None;
        }
        self.text.get(raw.range.clone())
    }

    /// A value as an owned string, unescaped.
    fn string(&mut self, raw: &Raw) -> Option<String> {
        if !raw.special {
            return self.text.get(raw.range.clone()).map(str::to_owned);
        }
        self.unescape(raw)?;
        std::str::from_utf8(&self.scratch).ok().map(str::to_owned)
    }

    /// A value as [`Text`]: a slice of the page, or of the shared buffer when it had to be
    /// unescaped.
    fn shared(&mut self, raw: &Raw) -> Option<Text> {
        if !raw.special {
            return Some(self.page.slice(&self.text[raw.range.clone()]));
        }
        if let Some(inner) = quoted(self.src, &raw.range) {
            // `&quot;…&quot;`, as every ETag of an S3 listing: no general unescaping.
            self.scratch.clear();
            self.scratch.push(b'"');
            self.scratch.extend_from_slice(&self.src[inner]);
            self.scratch.push(b'"');
            return self.share_scratch();
        }
        self.unescape(raw)?;
        self.share_scratch()
    }

    /// Unescapes `raw` into the scratch buffer (a carriage return, which the reference
    /// normalizes, is left to it).
    fn unescape(&mut self, raw: &Raw) -> Option<()> {
        let src = self.src;
        let text = &src[raw.range.clone()];
        if text.contains(&b'\r') {
            return None;
        }
        self.scratch.clear();
        unescape(text, Some(&mut self.scratch))
    }

    /// Moves the scratch buffer into the shared buffer, as a `Text` (`None`, and the page goes
    /// to the reference, if it is not UTF-8).
    fn share_scratch(&mut self) -> Option<Text> {
        let len = self.scratch.len();
        if self.side.capacity() - self.side.len() < len {
            // Room for many values at once: a fraction of the page, at least this one.
            self.side
                .reserve(len.max((self.src.len() / 6).clamp(1024, 256 * 1024)));
        }
        self.side.extend_from_slice(&self.scratch);
        Text::from_utf8_bytes(self.side.split().freeze())
    }

    /// The `encoding-type=url` decoding of a key, as the reference's `percent_decode`.
    fn url_decode(&mut self, key: &Text) -> Option<Text> {
        let bytes = key.as_bytes();
        if !bytes.iter().any(|b| matches!(b, b'%' | b'+')) {
            return Some(key.clone());
        }
        self.scratch.clear();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    let hi = bytes.get(i + 1).and_then(|b| hex_digit(*b))?;
                    let lo = bytes.get(i + 2).and_then(|b| hex_digit(*b))?;
                    self.scratch.push(hi << 4 | lo);
                    i += 3;
                }
                b'+' => {
                    self.scratch.push(b' ');
                    i += 1;
                }
                b => {
                    self.scratch.push(b);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&self.scratch).ok()?;
        self.share_scratch()
    }

    /// Reads the children of the entry element `elem` just opened (depth 2), through its end
    /// tag. `versions` reads `VersionId` and `IsLatest`, which a `<Contents>` does not have
    /// (there they are skipped, as the reference skips them).
    fn entry(&mut self, elem: &[u8], versions: bool) -> Option<Entry> {
        let mut e = Entry::default();
        loop {
            self.between()?;
            match self.tag()? {
                Tag::Close(name) => return (name == elem).then_some(e),
                Tag::Empty(name) => match name {
                    b"Key" => e.key = Some(Text::default()),
                    b"ETag" => e.etag = None,
                    b"StorageClass" => e.storage_class = None,
                    b"VersionId" if versions => e.version_id = None,
                    b"Size" | b"LastModified" => return None,
                    b"IsLatest" if versions => return None,
                    _ => {}
                },
                Tag::Open(name) => match name {
                    b"Key" => {
                        let raw = self.leaf(name)?;
                        e.key = Some(self.shared(&raw)?);
                    }
                    b"Size" => {
                        let raw = self.leaf(name)?;
                        e.size = Some(size(self.plain(&raw)?)?);
                    }
                    b"LastModified" => {
                        let raw = self.leaf(name)?;
                        e.last_modified = Some(date(self.plain(&raw)?)?);
                    }
                    b"ETag" => {
                        let raw = self.leaf(name)?;
                        e.etag = non_empty_text(self.shared(&raw)?);
                    }
                    b"StorageClass" => {
                        let raw = self.leaf(name)?;
                        e.storage_class = non_empty_text(self.shared(&raw)?);
                    }
                    b"VersionId" if versions => {
                        let raw = self.leaf(name)?;
                        e.version_id = non_empty(self.string(&raw)?);
                    }
                    b"IsLatest" if versions => {
                        let raw = self.leaf(name)?;
                        e.is_latest = parse_bool(self.plain(&raw)?, "IsLatest").ok()?;
                    }
                    _ => self.skip(name, 3)?,
                },
            }
        }
    }

    /// Reads the `<Prefix>` children of the `<CommonPrefixes>` just opened.
    fn prefixes(&mut self, elem: &[u8], out: &mut Vec<String>) -> Option<()> {
        loop {
            self.between()?;
            match self.tag()? {
                Tag::Close(name) => return (name == elem).then_some(()),
                Tag::Empty(b"Prefix") => out.push(String::new()),
                Tag::Empty(_) => {}
                Tag::Open(b"Prefix") => {
                    let raw = self.leaf(b"Prefix")?;
                    out.push(self.string(&raw)?);
                }
                Tag::Open(name) => self.skip(name, 3)?,
            }
        }
    }

    /// Skips the content of the element `name` just opened at `depth`, through its end tag.
    fn skip(&mut self, name: &[u8], depth: usize) -> Option<()> {
        if depth > MAX_SCAN_DEPTH {
            return None;
        }
        loop {
            self.between()?;
            match self.tag()? {
                Tag::Close(n) => return (n == name).then_some(()),
                Tag::Empty(_) => {}
                Tag::Open(n) => self.skip(n, depth + 1)?,
            }
        }
    }

    /// Checks that only whitespace follows the root.
    fn finish(&self) -> Option<()> {
        (skip_blank(self.src, self.pos) == self.src.len()).then_some(())
    }
}

/// The inside of a value `&quot;…&quot;` with no other reference and no carriage return in
/// it (slices of the validated page at ASCII bytes, so UTF-8).
fn quoted(src: &[u8], range: &Range<usize>) -> Option<Range<usize>> {
    const QUOT: &[u8] = b"&quot;";
    let inner = range.start + QUOT.len()..range.end.checked_sub(QUOT.len())?;
    (inner.start <= inner.end
        && src[range.clone()].starts_with(QUOT)
        && src[range.clone()].ends_with(QUOT)
        && find_special(src, inner.start) == Some(inner.end))
    .then_some(inner)
}

/// A `Text` that is `None` when empty.
fn non_empty_text(text: Text) -> Option<Text> {
    (!text.as_bytes().is_empty()).then_some(text)
}

/// Whether `b` is XML whitespace.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The position of the first byte at or after `from` that is not XML whitespace.
fn skip_blank(src: &[u8], from: usize) -> usize {
    src[from..]
        .iter()
        .position(|b| !is_blank(*b))
        .map_or(src.len(), |n| from + n)
}

/// The length of the listing element name `rest` starts with, when one is followed by `>` or
/// `/`: the common names found without testing each byte (any other goes byte by byte).
fn known_name(rest: &[u8]) -> Option<usize> {
    let name: &[u8] = match rest.first()? {
        b'K' => b"Key",
        b'E' => b"ETag",
        b'L' => b"LastModified",
        b'S' if rest.get(1) == Some(&b'i') => b"Size",
        b'S' => b"StorageClass",
        b'C' if rest.get(2) == Some(&b'n') => b"Contents",
        b'C' => b"CommonPrefixes",
        b'V' if rest.get(7) == Some(&b'I') => b"VersionId",
        b'V' => b"Version",
        b'I' => b"IsLatest",
        b'D' => b"DeleteMarker",
        b'P' => b"Prefix",
        _ => return None,
    };
    let len = name.len();
    (rest.get(..len) == Some(name) && matches!(rest.get(len), Some(b'>' | b'/'))).then_some(len)
}

/// The bytes of the element names the scanner accepts (no `:`, so a name is its local name).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Runs the scanner and the reference parser on `body` for both listings: `Ok(true)` when the
/// scanner accepted the page as one of them and gave exactly the reference's page, `Ok(false)`
/// when it handed the page over (the reference's answer is then the answer by construction),
/// `Err` with both results when they differ. For the tests and the `list_scan` fuzz target.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn check_scan(body: &Bytes) -> Result<bool, String> {
    let mut scanned = false;
    if let Some(page) = list_objects_v2(body) {
        scanned = true;
        match super::list::parse_list_objects_v2(body) {
            Ok(reference) if reference == page => {}
            other => {
                return Err(format!(
                    "ListObjectsV2: scanner {page:?}, reference {other:?}"
                ));
            }
        }
    }
    if let Some(page) = list_versions(body) {
        scanned = true;
        match super::versioning::parse_list_versions(body) {
            Ok(reference) if reference == page => {}
            other => {
                return Err(format!(
                    "ListObjectVersions: scanner {page:?}, reference {other:?}"
                ));
            }
        }
    }
    Ok(scanned)
}
