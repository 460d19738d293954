//! Object metadata from response headers, and the user-settable headers of uploads.

use crate::error::{Error, Result};
use crate::headers::http_date;
use crate::request::validate_header_value;
use http::HeaderMap;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// An object's metadata, from the headers of a HEAD or GET answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// The number of bytes in this answer's body: the whole object for HEAD and plain GET,
    /// the range for a ranged GET.
    pub size: u64,
    /// The entity tag, quotes included, e.g. `"9b2cf535f27731c974343645a3985328"`.
    pub etag: Option<String>,
    /// When the object was last written.
    pub last_modified: Option<SystemTime>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`, as the service sent it (an HTTP date, normally).
    pub expires: Option<String>,
    /// `x-amz-website-redirect-location`: where a website endpoint redirects requests for
    /// the object.
    pub website_redirect_location: Option<String>,
    /// The storage class, when not `STANDARD`.
    pub storage_class: Option<String>,
    /// The version id, for versioned buckets.
    pub version_id: Option<String>,
    /// Server-side encryption in use (`AES256`, `aws:kms`).
    pub server_side_encryption: Option<String>,
    /// User metadata: the `x-amz-meta-*` headers, names lower-cased without the prefix.
    pub metadata: BTreeMap<String, String>,
    /// The stored checksum the service returned (when asked for with
    /// [`GetObject::validate_checksum`](crate::GetObject::validate_checksum) or
    /// [`HeadObject::include_checksum`](crate::HeadObject::include_checksum); some stores send
    /// it unasked), and its algorithm; composite checksums of multipart objects end in
    /// `-<parts>`.
    pub checksum: Option<(crate::ChecksumAlgorithm, String)>,
    /// How that checksum was formed (`x-amz-checksum-type`), when the service said:
    /// [`Composite`](crate::ChecksumType::Composite) ones cannot be checked against the bytes.
    pub checksum_type: Option<crate::ChecksumType>,
    /// The request id of the answer.
    pub request_id: Option<String>,
    /// Whether the version answered is a delete marker (`x-amz-delete-marker: true`). S3
    /// answers a delete marker with an error instead (see
    /// [`Error::is_delete_marker`](crate::Error::is_delete_marker)), so this is `true` only
    /// for stores that answer it with a success.
    pub delete_marker: bool,
}

impl ObjectMeta {
    pub(crate) fn from_headers(h: &HeaderMap) -> Result<Self> {
        Ok(Scanned::new(h)?.meta)
    }
}

/// The response headers [`ObjectMeta`] and GetObject read, each named once here: the slot a
/// header's first value goes to.
#[derive(Clone, Copy)]
enum Slot {
    ContentLength,
    Etag,
    LastModified,
    ContentType,
    CacheControl,
    ContentDisposition,
    ContentEncoding,
    ContentLanguage,
    Expires,
    WebsiteRedirect,
    StorageClass,
    VersionId,
    Sse,
    ChecksumType,
    RequestId,
    DeleteMarker,
    ContentRange,
    /// The first of the checksum headers, in [`ChecksumAlgorithm::RESPONSE_ORDER`]; the others
    /// follow it.
    Checksum,
}

/// The checksum algorithms a response can report, in order of preference.
const CHECKSUMS: [crate::ChecksumAlgorithm; 5] = crate::ChecksumAlgorithm::RESPONSE_ORDER;
const SLOTS: usize = Slot::Checksum as usize + CHECKSUMS.len();
// One bit per slot in `Scanned::new`.
const _: () = assert!(SLOTS <= 32);

fn slot(name: &str) -> Option<usize> {
    let s = match name {
        "content-length" => Slot::ContentLength,
        "etag" => Slot::Etag,
        "last-modified" => Slot::LastModified,
        "content-type" => Slot::ContentType,
        "cache-control" => Slot::CacheControl,
        "content-disposition" => Slot::ContentDisposition,
        "content-encoding" => Slot::ContentEncoding,
        "content-language" => Slot::ContentLanguage,
        "expires" => Slot::Expires,
        "x-amz-website-redirect-location" => Slot::WebsiteRedirect,
        "x-amz-storage-class" => Slot::StorageClass,
        "x-amz-version-id" => Slot::VersionId,
        "x-amz-server-side-encryption" => Slot::Sse,
        "x-amz-checksum-type" => Slot::ChecksumType,
        "x-amz-request-id" => Slot::RequestId,
        "x-amz-delete-marker" => Slot::DeleteMarker,
        "content-range" => Slot::ContentRange,
        _ if name.starts_with("x-amz-checksum-") => {
            let i = CHECKSUMS.iter().position(|a| a.header_name() == name)?;
            return Some(Slot::Checksum as usize + i);
        }
        _ => return None,
    };
    Some(s as usize)
}

/// The headers of a HEAD or GET answer read in one pass (instead of one map lookup per
/// field): the metadata, and what GetObject checks besides.
pub(crate) struct Scanned<'a> {
    pub(crate) meta: ObjectMeta,
    /// Whether `Content-Length` was there (as text).
    pub(crate) has_length: bool,
    /// `Content-Range`, as sent.
    pub(crate) content_range: Option<&'a str>,
    /// `x-amz-checksum-type`, as sent.
    pub(crate) checksum_type: Option<&'a str>,
    /// The value of each checksum header, in [`ChecksumAlgorithm::RESPONSE_ORDER`](crate::ChecksumAlgorithm).
    pub(crate) checksums: [Option<&'a str>; 5],
}

impl<'a> Scanned<'a> {
    /// Reads `h` once. A header counts by its first value, as with a lookup (`HeaderMap::get`):
    /// a first value that is not visible ASCII leaves its field empty. User metadata takes
    /// every `x-amz-meta-*` value that is text, a later one replacing an earlier one.
    ///
    /// # Errors
    ///
    /// `InvalidResponse` when `Content-Length` is not a number.
    pub(crate) fn new(h: &'a HeaderMap) -> Result<Self> {
        let mut first: [Option<&'a str>; SLOTS] = [None; SLOTS];
        let mut seen = 0u32;
        let mut metadata = BTreeMap::new();
        for (name, value) in h {
            let name = name.as_str();
            if let Some(k) = name.strip_prefix("x-amz-meta-") {
                if let Ok(v) = value.to_str() {
                    metadata.insert(k.to_owned(), v.to_owned());
                }
                continue;
            }
            let Some(i) = slot(name) else { continue };
            // The map yields a name's first value before its others.
            if seen & (1 << i) == 0 {
                seen |= 1 << i;
                first[i] = value.to_str().ok();
            }
        }
        let get = |s: Slot| first[s as usize];
        let owned = |s: Slot| get(s).map(str::to_owned);
        let size = match get(Slot::ContentLength) {
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                Error::invalid_response(format!("Content-Length {v:?} is not a number"))
            })?,
            None => 0,
        };
        let mut checksums = [None; CHECKSUMS.len()];
        checksums.copy_from_slice(&first[Slot::Checksum as usize..]);
        let meta = ObjectMeta {
            size,
            etag: owned(Slot::Etag),
            last_modified: get(Slot::LastModified).and_then(http_date),
            content_type: owned(Slot::ContentType),
            cache_control: owned(Slot::CacheControl),
            content_disposition: owned(Slot::ContentDisposition),
            content_encoding: owned(Slot::ContentEncoding),
            content_language: owned(Slot::ContentLanguage),
            expires: owned(Slot::Expires),
            website_redirect_location: owned(Slot::WebsiteRedirect),
            storage_class: owned(Slot::StorageClass),
            version_id: owned(Slot::VersionId),
            server_side_encryption: owned(Slot::Sse),
            metadata,
            checksum: CHECKSUMS
                .into_iter()
                .zip(checksums)
                .find_map(|(alg, v)| v.map(|v| (alg, v.to_owned()))),
            checksum_type: get(Slot::ChecksumType).and_then(crate::ChecksumType::parse),
            request_id: owned(Slot::RequestId),
            delete_marker: get(Slot::DeleteMarker).is_some_and(|v| v.trim() == "true"),
        };
        Ok(Scanned {
            meta,
            has_length: get(Slot::ContentLength).is_some(),
            content_range: get(Slot::ContentRange),
            checksum_type: get(Slot::ChecksumType),
            checksums,
        })
    }
}

/// Server-side encryption for an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerSideEncryption {
    /// S3-managed keys (`AES256`).
    Aes256,
    /// KMS keys (`aws:kms`), with an optional key id (the bucket default when absent).
    Kms {
        /// The KMS key id or ARN.
        key_id: Option<String>,
    },
}

/// The headers an upload can set: content headers, user metadata, storage class, encryption.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjectHeaders {
    pub(crate) content_type: Option<String>,
    pub(crate) cache_control: Option<String>,
    pub(crate) content_disposition: Option<String>,
    pub(crate) content_encoding: Option<String>,
    pub(crate) content_language: Option<String>,
    pub(crate) expires: Option<String>,
    /// Not metadata for a copy: S3 never copies it, and setting it does not replace the rest.
    pub(crate) website_redirect_location: Option<String>,
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) storage_class: Option<String>,
    pub(crate) sse: Option<ServerSideEncryption>,
    // versioning and tagging
    /// Object tags (`x-amz-tagging`), checked against S3's limits when sent.
    pub(crate) tags: Option<Vec<(String, String)>>,
    // issue 11 part B: SSE-C, SSE-KMS settings, request payer (each marked with its steps)
    pub(crate) extra: super::sse::ExtraHeaders,
}

impl ObjectHeaders {
    /// Whether any of the headers S3 treats as object metadata is set (content headers and
    /// user metadata; not storage class or encryption).
    pub(crate) fn has_metadata(&self) -> bool {
        self.content_type.is_some()
            || self.cache_control.is_some()
            || self.content_disposition.is_some()
            || self.content_encoding.is_some()
            || self.content_language.is_some()
            || self.expires.is_some()
            || !self.metadata.is_empty()
    }

    /// The request headers, validated, user metadata included (names lower-cased).
    pub(crate) fn to_headers(&self) -> Result<Vec<(Cow<'static, str>, String)>> {
        let mut out: Vec<(Cow<'static, str>, String)> = Vec::new();
        let mut push = |name: &'static str, v: &Option<String>| -> Result<()> {
            if let Some(v) = v {
                validate_header_value(name, v)?;
                out.push((Cow::Borrowed(name), v.clone()));
            }
            Ok(())
        };
        push("content-type", &self.content_type)?;
        push("cache-control", &self.cache_control)?;
        push("content-disposition", &self.content_disposition)?;
        push("content-encoding", &self.content_encoding)?;
        push("content-language", &self.content_language)?;
        push("expires", &self.expires)?;
        push(
            "x-amz-website-redirect-location",
            &self.website_redirect_location,
        )?;
        push("x-amz-storage-class", &self.storage_class)?;
        match &self.sse {
            None => {}
            Some(ServerSideEncryption::Aes256) => {
                out.push(("x-amz-server-side-encryption".into(), "AES256".to_owned()));
            }
            Some(ServerSideEncryption::Kms { key_id }) => {
                out.push(("x-amz-server-side-encryption".into(), "aws:kms".to_owned()));
                if let Some(id) = key_id {
                    validate_header_value("x-amz-server-side-encryption-aws-kms-key-id", id)?;
                    out.push((
                        "x-amz-server-side-encryption-aws-kms-key-id".into(),
                        id.clone(),
                    ));
                }
            }
        }
        for (k, v) in &self.metadata {
            out.push(Self::metadata_header(k, v)?);
        }
        // versioning and tagging
        if let Some(tags) = &self.tags
            && !tags.is_empty()
        {
            out.push((
                "x-amz-tagging".into(),
                super::tagging::header_value(tags, super::tagging::MAX_OBJECT_TAGS)?,
            ));
        }
        self.extra.validate()?;
        if self.sse.is_some()
            && self
                .extra
                .get("x-amz-server-side-encryption-customer-key")
                .is_some()
        {
            return Err(Error::invalid_input(
                "an SSE-C key cannot go with another server-side encryption (AES256 or KMS)",
            ));
        }
        let kms = matches!(self.sse, Some(ServerSideEncryption::Kms { .. }));
        if self.extra.has_kms_settings() && !kms {
            return Err(Error::invalid_input(
                "an encryption context or bucket key needs ServerSideEncryption::Kms",
            ));
        }
        out.extend(self.extra.headers(super::sse::scope::START));
        Ok(out)
    }

    fn metadata_header(k: &str, v: &str) -> Result<(Cow<'static, str>, String)> {
        let name_ok = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !name_ok {
            return Err(Error::invalid_input(format!(
                "metadata name {k:?} must be ASCII letters, digits, '-', '_' or '.'"
            )));
        }
        let name = format!("x-amz-meta-{}", k.to_ascii_lowercase());
        validate_header_value(&name, v)?;
        Ok((Cow::Owned(name), v.to_owned()))
    }
}

/// Setters shared by every builder that writes object headers (`put_object`, `copy_object`,
/// `upload`, …). The builder needs a field `headers: ObjectHeaders`.
macro_rules! object_header_setters {
    () => {
        /// Sets `Content-Type`.
        pub fn content_type(mut self, v: impl Into<String>) -> Self {
            self.headers.content_type = Some(v.into());
            self
        }

        /// Sets `Cache-Control`.
        pub fn cache_control(mut self, v: impl Into<String>) -> Self {
            self.headers.cache_control = Some(v.into());
            self
        }

        /// Sets `Content-Disposition`.
        pub fn content_disposition(mut self, v: impl Into<String>) -> Self {
            self.headers.content_disposition = Some(v.into());
            self
        }

        /// Sets `Content-Encoding`.
        pub fn content_encoding(mut self, v: impl Into<String>) -> Self {
            self.headers.content_encoding = Some(v.into());
            self
        }

        /// Sets `Content-Language`.
        pub fn content_language(mut self, v: impl Into<String>) -> Self {
            self.headers.content_language = Some(v.into());
            self
        }

        /// Sets `Expires`: an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`) after which caches
        /// should consider the object stale.
        pub fn expires(mut self, v: impl Into<String>) -> Self {
            self.headers.expires = Some(v.into());
            self
        }

        /// Sets `x-amz-website-redirect-location`: a website endpoint redirects requests for
        /// the object there (a key in the bucket starting with `/`, or a URL).
        pub fn website_redirect_location(mut self, v: impl Into<String>) -> Self {
            self.headers.website_redirect_location = Some(v.into());
            self
        }

        /// Adds user metadata, sent as `x-amz-meta-<name>` (printable ASCII only).
        pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.headers.metadata.push((name.into(), value.into()));
            self
        }

        /// Sets the storage class, e.g. `STANDARD_IA`.
        pub fn storage_class(mut self, v: impl Into<String>) -> Self {
            self.headers.storage_class = Some(v.into());
            self
        }

        /// Asks for server-side encryption.
        pub fn server_side_encryption(
            mut self,
            sse: $crate::ops::meta::ServerSideEncryption,
        ) -> Self {
            self.headers.sse = Some(sse);
            self
        }

        // issue 11 part B: SSE-C, SSE-KMS settings, request payer
        $crate::ops::sse::extra_setters!(
            headers.extra => sse_customer_key, request_payer, kms_encryption_context,
            bucket_key_enabled
        );
    };
}
pub(crate) use object_header_setters;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::{header, header_string, request_id};
    use http::{HeaderName, HeaderValue};
    use proptest::prelude::*;

    /// The metadata as it was read before the one-pass scan: one lookup per field.
    fn by_lookup(h: &HeaderMap) -> Result<ObjectMeta> {
        let size = match header(h, "content-length") {
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                Error::invalid_response(format!("Content-Length {v:?} is not a number"))
            })?,
            None => 0,
        };
        let mut metadata = BTreeMap::new();
        for (name, value) in h {
            if let Some(k) = name.as_str().strip_prefix("x-amz-meta-")
                && let Ok(v) = value.to_str()
            {
                metadata.insert(k.to_owned(), v.to_owned());
            }
        }
        Ok(ObjectMeta {
            size,
            etag: header_string(h, "etag"),
            last_modified: header(h, "last-modified").and_then(http_date),
            content_type: header_string(h, "content-type"),
            cache_control: header_string(h, "cache-control"),
            content_disposition: header_string(h, "content-disposition"),
            content_encoding: header_string(h, "content-encoding"),
            content_language: header_string(h, "content-language"),
            expires: header_string(h, "expires"),
            website_redirect_location: header_string(h, "x-amz-website-redirect-location"),
            storage_class: header_string(h, "x-amz-storage-class"),
            version_id: header_string(h, "x-amz-version-id"),
            server_side_encryption: header_string(h, "x-amz-server-side-encryption"),
            metadata,
            checksum: crate::ChecksumAlgorithm::RESPONSE_ORDER
                .into_iter()
                .find_map(|alg| header_string(h, alg.header_name()).map(|v| (alg, v))),
            checksum_type: header(h, "x-amz-checksum-type").and_then(crate::ChecksumType::parse),
            request_id: request_id(h),
            delete_marker: header(h, "x-amz-delete-marker").is_some_and(|v| v.trim() == "true"),
        })
    }

    const NAMES: &[&str] = &[
        "content-length",
        "etag",
        "last-modified",
        "content-type",
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
        "expires",
        "x-amz-website-redirect-location",
        "x-amz-storage-class",
        "x-amz-version-id",
        "x-amz-server-side-encryption",
        "x-amz-checksum-type",
        "x-amz-request-id",
        "x-amz-delete-marker",
        "content-range",
        "x-amz-checksum-crc64nvme",
        "x-amz-checksum-crc32c",
        "x-amz-checksum-crc32",
        "x-amz-checksum-sha256",
        "x-amz-checksum-sha1",
        "x-amz-checksum-md5",
        "x-amz-meta-a",
        "x-amz-meta-b",
        "x-amz-meta-",
        "x-amz-id-2",
        "date",
    ];

    const VALUES: &[&[u8]] = &[
        b"4096",
        b" 12 ",
        b"-1",
        b"abc",
        b"",
        b"true",
        b" true ",
        b"false",
        b"COMPOSITE",
        b"full_object",
        b"Sun, 06 Nov 1994 08:49:37 GMT",
        b"\"9b2cf535f27731c974343645a3985328\"",
        b"AAAA-3",
        b"bytes 0-9/10",
        b"caf\xc3\xa9",
        b"\xff",
    ];

    fn map(pairs: &[(usize, usize)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for &(n, v) in pairs {
            let name = HeaderName::from_static(NAMES[n % NAMES.len()]);
            let value = HeaderValue::from_bytes(VALUES[v % VALUES.len()]).unwrap();
            h.append(name, value);
        }
        h
    }

    fn same(h: &HeaderMap) {
        match (Scanned::new(h), by_lookup(h)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.meta, b, "{h:?}");
                assert_eq!(a.has_length, header(h, "content-length").is_some());
                assert_eq!(a.content_range, header(h, "content-range"));
                assert_eq!(a.checksum_type, header(h, "x-amz-checksum-type"));
                for (alg, v) in CHECKSUMS.into_iter().zip(a.checksums) {
                    assert_eq!(v, header(h, alg.header_name()), "{alg:?} {h:?}");
                }
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("{h:?}: {:?} vs {:?}", a.map(|s| s.meta), b),
        }
    }

    /// Every field, each header given twice (the first value counts, a later `x-amz-meta-*`
    /// value replaces an earlier one), non-text values (which leave a field empty).
    #[test]
    fn one_pass_reads_what_lookups_read() {
        let all: Vec<(usize, usize)> = (0..NAMES.len()).map(|n| (n, n)).collect();
        same(&map(&all));
        let twice: Vec<(usize, usize)> = (0..NAMES.len()).flat_map(|n| [(n, 14), (n, 5)]).collect();
        let h = map(&twice);
        same(&h);
        assert_eq!(
            Scanned::new(&h).unwrap().meta.etag,
            None,
            "first value not text"
        );
        let h = map(&[(1, 11), (1, 3), (23, 3), (23, 5), (16, 13)]);
        let s = Scanned::new(&h).unwrap();
        assert_eq!(
            s.meta.etag.as_deref(),
            Some(VALUES[11]).map(|v| std::str::from_utf8(v).unwrap())
        );
        assert_eq!(s.meta.metadata.get("a").map(String::as_str), Some("true"));
        assert_eq!(s.content_range, Some("bytes 0-9/10"));
        same(&map(&[(0, 3)]));
        same(&HeaderMap::new());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn one_pass_matches_lookups(pairs in proptest::collection::vec((0..NAMES.len(), 0..VALUES.len()), 0..24)) {
            same(&map(&pairs));
        }
    }
}
