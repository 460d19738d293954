//! Object metadata from response headers, and the user-settable headers of uploads.

use crate::error::{Error, Result};
use crate::headers::{header, header_string, http_date, request_id};
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
