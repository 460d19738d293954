//! The listing scanner (`scan.rs`) against the reference parsers it stands in for: generated
//! ListObjectsV2 and ListObjectVersions pages (escaped and URL-encoded keys, pretty-printing,
//! unknown elements, optional fields, truncation, constructs that force the fallback) and
//! random mutations of them; on every page the scanner accepts it must give exactly the
//! reference's page.

use bytes::Bytes;
use proptest::prelude::*;

use super::scan::{list_objects_v2, list_versions};
use super::scan_values::{fast_date, text_end};
use super::*;

/// A small deterministic generator for the many choices of a page (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Characters keys are made of: plain ASCII most often, then XML's special characters, URL
/// encoding's, whitespace and non-ASCII.
const KEY_CHARS: &[&str] = &[
    "a", "b", "k", "z", "0", "7", "/", "/", ".", "-", "_", " ", "%", "+", "&", "<", ">", "\"", "'",
    ";", "#", "é", "日", "😀", "\t", "\n", "\u{1}",
];

fn key(rng: &mut Rng) -> String {
    (0..rng.below(14)).map(|_| *rng.pick(KEY_CHARS)).collect()
}

/// Escapes `s` for XML text, choosing among the equivalent spellings.
fn escape(rng: &mut Rng, s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let spelled = match c {
            '&' => rng.pick(&["&amp;", "&#38;", "&#x26;"]).to_string(),
            '<' => rng.pick(&["&lt;", "&#60;", "&#x3C;"]).to_string(),
            '>' => rng.pick(&[">", "&gt;"]).to_string(),
            '"' => rng.pick(&["\"", "&quot;", "&#34;"]).to_string(),
            '\'' => rng.pick(&["'", "&apos;"]).to_string(),
            c if rng.chance(4) => format!("&#{};", u32::from(c)),
            c if rng.chance(4) => format!("&#x{:X};", u32::from(c)),
            c => c.to_string(),
        };
        out.push_str(&spelled);
    }
    out
}

/// URL-encodes `s` as S3 does for `encoding-type=url` (form style: a space may be `+`).
fn url_encode(rng: &mut Rng, s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b' ' if rng.chance(50) => out.push('+'),
            b if (b.is_ascii_alphanumeric() || b"/.-_~".contains(&b)) && !rng.chance(10) => {
                out.push(char::from(b));
            }
            b if rng.chance(50) => out.push_str(&format!("%{b:02X}")),
            b => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

const DATES: &[&str] = &[
    "2024-05-01T12:00:00.000Z",
    "2009-10-12T17:50:30.123Z",
    "2000-02-29T23:59:59Z",
    "1970-01-01T00:00:00.000Z",
    "2100-12-31T00:00:00.999Z",
    "2024-01-02T03:04:05.123456Z",
    "2024-01-02T03:04:05+01:00",
    " 2024-01-02T03:04:05.678Z\n",
    "1969-12-31T23:59:59.500Z",
];

/// Values that make the reference fail (so the scanner must hand the page over).
const BAD_DATES: &[&str] = &[
    "2023-02-29T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "yesterday",
    "",
];

/// The unknown elements S3 sends inside an entry.
const UNKNOWN: &[&str] = &[
    "<Owner><ID>75aa57f09aa0c8ca</ID><DisplayName>me &amp; you</DisplayName></Owner>",
    "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>",
    "<ChecksumType>FULL_OBJECT</ChecksumType>",
    "<RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress>\
     <RestoreExpiryDate>2024-01-01T00:00:00.000Z</RestoreExpiryDate></RestoreStatus>",
    "<Owner/>",
];

/// Constructs the scanner does not handle, each spliced in somewhere legal (the reference
/// accepts them).
const FALLBACK: &[&str] = &[
    "<!-- a comment -->",
    "<?pi x?>",
    "<Extra a=\"1\">x</Extra>",
    "<s3:Extra>x</s3:Extra>",
    "<Extra >x</Extra >",
];

/// One generated page.
struct Built {
    xml: String,
    /// Whether the scanner must accept it (no breakage, no fallback construct).
    scannable: bool,
}

fn page(seed: u64) -> Built {
    let mut rng = Rng(seed | 1);
    let r = &mut rng;
    let versions = r.chance(40);
    let root = if versions {
        "ListVersionsResult"
    } else {
        "ListBucketResult"
    };
    let sep = if r.chance(50) { "\n    " } else { "" };
    let url = r.chance(40);
    let mut scannable = true;
    let mut xml = String::new();
    if r.chance(70) {
        xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    xml.push_str(&format!("<{root}"));
    if r.chance(70) {
        xml.push_str(" xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"");
    }
    xml.push('>');
    let mut top: Vec<String> = vec![
        "<Name>bucket</Name>".into(),
        r.pick(&["<Prefix/>", "<Prefix></Prefix>", "<Prefix>photos/</Prefix>"])
            .to_string(),
        "<MaxKeys>1000</MaxKeys>".into(),
        format!(
            "<IsTruncated>{}</IsTruncated>",
            r.pick(&["true", "false", "TRUE", " false "])
        ),
    ];
    if url {
        top.push(format!(
            "<EncodingType>{}</EncodingType>",
            r.pick(&["url", "URL", " url "])
        ));
    } else if r.chance(10) {
        top.push("<EncodingType>none</EncodingType>".into());
    }
    if versions {
        let k = key(r);
        let k = if url { url_encode(r, &k) } else { k };
        top.push(format!("<NextKeyMarker>{}</NextKeyMarker>", escape(r, &k)));
        top.push(
            r.pick(&[
                "<NextVersionIdMarker>v+2/x</NextVersionIdMarker>",
                "<NextVersionIdMarker/>",
            ])
            .to_string(),
        );
    } else {
        top.push(format!("<KeyCount>{}</KeyCount>", r.below(2000)));
        if r.chance(50) {
            top.push(format!(
                "<NextContinuationToken>{}</NextContinuationToken>",
                escape(r, "1ueGcxLPRx1Tr/XYExH+hbYLgveDs2J/wm36Hy4vbOwM=")
            ));
        }
    }
    for _ in 0..r.below(7) {
        let i = r.below(top.len() + 1);
        if r.chance(20) {
            let p = key(r);
            let p = if url { url_encode(r, &p) } else { p };
            top.insert(
                i,
                format!(
                    "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
                    escape(r, &p)
                ),
            );
            continue;
        }
        let mut fields: Vec<String> = Vec::new();
        let k = key(r);
        let k = if url { url_encode(r, &k) } else { k };
        fields.push(if k.is_empty() && r.chance(50) {
            "<Key/>".into()
        } else {
            format!("<Key>{}</Key>", escape(r, &k))
        });
        let delete_marker = versions && r.chance(30);
        if !delete_marker || r.chance(20) {
            fields.push(format!(
                "<Size>{}</Size>",
                r.pick(&[
                    "0",
                    "1",
                    "434234",
                    "18446744073709551614",
                    "+5",
                    " 7 ",
                    "0012"
                ])
            ));
        }
        if r.chance(90) {
            fields.push(format!("<LastModified>{}</LastModified>", r.pick(DATES)));
        }
        if !delete_marker && r.chance(90) {
            let inner = format!("{:032x}", r.next());
            fields.push(match r.below(4) {
                0 => format!("<ETag>&quot;{inner}&quot;</ETag>"),
                1 => format!("<ETag>\"{inner}-12\"</ETag>"),
                2 => "<ETag/>".into(),
                _ => format!("<ETag>&#34;{inner}&#x22;</ETag>"),
            });
        }
        if !delete_marker && r.chance(80) {
            fields.push(
                r.pick(&[
                    "<StorageClass>STANDARD</StorageClass>",
                    "<StorageClass>GLACIER</StorageClass>",
                    "<StorageClass></StorageClass>",
                ])
                .to_string(),
            );
        }
        if versions {
            fields.push(
                r.pick(&[
                    "<VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId>",
                    "<VersionId>null</VersionId>",
                    "<VersionId>a&amp;b</VersionId>",
                ])
                .to_string(),
            );
            fields.push(format!(
                "<IsLatest>{}</IsLatest>",
                r.pick(&["true", "false"])
            ));
        }
        for _ in 0..r.below(3) {
            fields.push(r.pick(UNKNOWN).to_string());
        }
        for i in (1..fields.len()).rev() {
            let j = r.below(i + 1);
            fields.swap(i, j);
        }
        if r.chance(8) {
            // Breakage the reference refuses: the scanner must hand the page over.
            scannable = false;
            match r.below(4) {
                0 => {
                    fields.remove(0);
                }
                1 => fields.push(format!(
                    "<LastModified>{}</LastModified>",
                    r.pick(BAD_DATES)
                )),
                2 => fields.push("<Size>-1</Size>".into()),
                _ => fields.push("<Size>1</Siz>".into()),
            }
        }
        if r.chance(5) {
            scannable = false;
            let at = r.below(fields.len() + 1);
            fields.insert(at, r.pick(FALLBACK).to_string());
        }
        let name = if delete_marker {
            "DeleteMarker"
        } else if versions {
            "Version"
        } else {
            "Contents"
        };
        let inner_sep = if sep.is_empty() { "" } else { "\n        " };
        top.insert(
            i,
            format!(
                "<{name}>{inner_sep}{}{sep}</{name}>",
                fields.join(inner_sep)
            ),
        );
    }
    if r.chance(5) {
        scannable = false;
        let at = r.below(top.len() + 1);
        top.insert(at, r.pick(FALLBACK).to_string());
    }
    if url && r.chance(5) {
        scannable = false;
        top.push("<CommonPrefixes><Prefix>50%</Prefix></CommonPrefixes>".into());
    }
    for t in &top {
        xml.push_str(sep);
        xml.push_str(t);
    }
    xml.push_str(if sep.is_empty() { "" } else { "\n" });
    xml.push_str(&format!("</{root}>"));
    if r.chance(30) {
        xml.push('\n');
    }
    Built { xml, scannable }
}

/// Bytes a mutation writes: markup, references, whitespace, a UTF-8 lead byte.
const MUTATION_BYTES: &[u8] = b"<>/&;#x\"'= \r\n!?-[]%+aZ09\xc3\xe6";

fn mutate(body: &[u8], edits: &[(usize, u8, usize)]) -> Vec<u8> {
    let mut out = body.to_vec();
    for &(at, op, byte) in edits {
        let b = MUTATION_BYTES[byte % MUTATION_BYTES.len()];
        let at = at % (out.len() + 1);
        match op {
            0 if at < out.len() => out[at] = b,
            1 => out.insert(at, b),
            2 if at < out.len() => {
                out.remove(at);
            }
            _ => out.truncate(at),
        }
    }
    out
}

fn check(body: &[u8]) -> Result<bool, TestCaseError> {
    check_scan(&Bytes::copy_from_slice(body))
        .map_err(|e| TestCaseError::fail(format!("{e}\npage: {}", String::from_utf8_lossy(body))))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn scanner_equals_reference_on_generated_pages(seed in any::<u64>()) {
        let built = page(seed);
        let scanned = check(built.xml.as_bytes())?;
        if built.scannable {
            prop_assert!(scanned, "the scanner handed over a plain page:\n{}", built.xml);
        }
    }

    #[test]
    fn scanner_equals_reference_on_mutated_pages(
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<usize>(), 0u8..4, any::<usize>()), 1..5),
    ) {
        let built = page(seed);
        check(&mutate(built.xml.as_bytes(), &edits))?;
    }

    #[test]
    fn scanner_equals_reference_on_truncated_pages(seed in any::<u64>(), cut in any::<usize>()) {
        let built = page(seed);
        let cut = cut % (built.xml.len() + 1);
        prop_assert!(!check(&built.xml.as_bytes()[..cut])? || cut + 1 >= built.xml.len());
    }

    #[test]
    fn text_end_finds_the_first_markup_byte(
        src in prop::collection::vec(prop::sample::select(b"ab<&\r\n>;x\x80\xff\x00".to_vec()), 0..40),
        from in 0usize..40,
    ) {
        let from = from.min(src.len());
        let naive = src[from..].iter().position(|b| *b == b'<').map(|n| {
            (from + n, src[from..from + n].iter().any(|b| matches!(b, b'&' | b'\r')))
        });
        prop_assert_eq!(text_end(&src, from), naive);
    }

    #[test]
    fn fast_dates_equal_the_reference(
        y in 1970u32..=9999, mo in 1u32..=12, d in 1u32..=31,
        h in 0u32..=23, mi in 0u32..=59, s in 0u32..=59, ms in proptest::option::of(0u32..1000),
    ) {
        let text = match ms {
            Some(ms) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z"),
            None => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
        };
        let reference = super::reader::parse_date(&text, "LastModified").ok();
        prop_assert_eq!(fast_date(text.as_bytes()), reference, "{}", text);
    }
}

/// The benchmark's page, and pages like S3's, take the fast path.
#[test]
fn typical_pages_are_scanned() {
    let mut sink = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix></Prefix>\
         <KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>",
    );
    for i in 0..1000 {
        sink.push_str(&format!(
            "<Contents><Key>photos/2024/{i:06}.jpg</Key><LastModified>2024-05-01T12:00:00.000Z\
             </LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>\
             <Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            1000 + i
        ));
    }
    sink.push_str("</ListBucketResult>");
    let body = Bytes::from(sink);
    assert_eq!(check_scan(&body), Ok(true));
    let page = list_objects_v2(&body).unwrap();
    assert_eq!(page.objects.len(), 1000);
    assert_eq!(page.objects[7].key, "photos/2024/000007.jpg");
    assert_eq!(
        page.objects[7].etag.as_deref(),
        Some("\"0123456789abcdef0123456789abcdef\"")
    );
    // Keys are slices of the page itself.
    let key = page.objects[7].key.as_bytes().as_ptr() as usize;
    let range = body.as_ptr() as usize..body.as_ptr() as usize + body.len();
    assert!(range.contains(&key));

    let versions = Bytes::from_static(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
    <Name>bucket</Name><Prefix>my</Prefix><KeyMarker/><VersionIdMarker/><MaxKeys>5</MaxKeys>
    <EncodingType>url</EncodingType>
    <IsTruncated>true</IsTruncated>
    <NextKeyMarker>my%20second</NextKeyMarker><NextVersionIdMarker>v+1</NextVersionIdMarker>
    <Version>
        <Key>my+image.jpg</Key>
        <VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId>
        <IsLatest>true</IsLatest>
        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner><ID>75aa57f0</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>
    </Version>
    <DeleteMarker>
        <Key>my-second-image.jpg</Key>
        <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>
        <IsLatest>true</IsLatest>
        <LastModified>2009-11-12T17:50:30.000Z</LastModified>
    </DeleteMarker>
    <CommonPrefixes><Prefix>my%2Fdir/</Prefix></CommonPrefixes>
</ListVersionsResult>"#,
    );
    assert_eq!(check_scan(&versions), Ok(true));
    let page = list_versions(&versions).unwrap();
    assert_eq!(page.entries.len(), 2);
    assert_eq!(page.next_key_marker.as_deref(), Some("my second"));
    assert_eq!(page.common_prefixes, ["my/dir/"]);
}

/// What the scanner leaves to the reference: it returns `None`, and the public entry points
/// give the reference's answer, errors included.
#[test]
fn odd_pages_go_to_the_reference() {
    let cases: [&[u8]; 9] = [
        b"<ListBucketResult><Contents><Key><![CDATA[a<b]]></Key><Size>1</Size></Contents></ListBucketResult>",
        b"<ListBucketResult><!-- hi --><Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Key>a\r\nb</Key><Size>1</Size></Contents></ListBucketResult>",
        b"<!DOCTYPE x><ListBucketResult/>",
        b"<Error><Code>AccessDenied</Code></Error>",
        b"<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Key>&foo;</Key><Size>1</Size></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Key>k</Key><Size>1</Size></Contents>",
        b"\xef\xbb\xbf<ListBucketResult></ListBucketResult>",
    ];
    for body in cases {
        let bytes = Bytes::from_static(body);
        assert!(
            list_objects_v2(&bytes).is_none(),
            "{}",
            String::from_utf8_lossy(body)
        );
        let fast = scan_list_objects_v2(&bytes).map_err(|e| e.to_string());
        let reference = parse_list_objects_v2(body).map_err(|e| e.to_string());
        assert_eq!(fast, reference);
    }
    // Deeper than the scanner follows, but within the reference's limit.
    let deep = format!(
        "<ListBucketResult><Contents><Key>k</Key><Size>1</Size>{}{}</Contents></ListBucketResult>",
        "<a>".repeat(20),
        "</a>".repeat(20)
    );
    let bytes = Bytes::from(deep);
    assert!(list_objects_v2(&bytes).is_none());
    assert_eq!(scan_list_objects_v2(&bytes).unwrap().objects[0].key, "k");
}

/// Generated pages are mostly handled by the scanner, so the differential tests above test it.
#[test]
fn the_generator_reaches_the_fast_path() {
    let scanned = (0..500u64)
        .filter(|seed| check(page(*seed * 7919).xml.as_bytes()).unwrap())
        .count();
    assert!(scanned > 300, "{scanned} of 500");
}
