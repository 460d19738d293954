//! Request options shared by many operations: server-side encryption with customer keys
//! (SSE-C), SSE-KMS settings, and Requester Pays. [`ExtraHeaders`] holds the headers they
//! become, each marked with the steps of a write it belongs to, and prints only their names.

use crate::error::{Error, Result};
use crate::request::OpRequest;
use std::borrow::Cow;
use std::fmt;

/// A customer-provided 256-bit key for server-side encryption (SSE-C).
///
/// S3 encrypts the object with it and keeps only a salted HMAC of it: every later read (and
/// every part, and a copy's source) must present the same key. The key and its MD5 travel as
/// `x-amz-server-side-encryption-customer-key` (base64) and `…-customer-key-MD5` with the
/// algorithm `AES256`. The key never appears in `Debug`, in errors or in logs, and requests
/// carrying it are refused over plain `http://` unless the endpoint is a loopback address.
///
/// # Example
///
/// ```
/// # fn demo() -> Result<(), async_s3::Error> {
/// let key = async_s3::SseCustomerKey::new([7u8; 32])?;
/// assert_eq!(format!("{key:?}"), "SseCustomerKey(<redacted>)");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SseCustomerKey {
    /// The key, base64.
    key: String,
    /// The key's MD5, base64.
    md5: String,
}

impl SseCustomerKey {
    /// A key from its 32 raw bytes; the MD5 S3 asks for is computed here.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) unless the key is exactly
    /// 32 bytes (the error does not show it).
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self> {
        use md5::{Digest, Md5};
        let key = key.as_ref();
        if key.len() != 32 {
            return Err(Error::invalid_input(format!(
                "an SSE-C key must be 32 bytes (AES-256), not {}",
                key.len()
            )));
        }
        Ok(Self {
            key: crate::base64::encode(key),
            md5: crate::base64::encode(&Md5::digest(key)),
        })
    }
}

impl fmt::Debug for SseCustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SseCustomerKey(<redacted>)")
    }
}

/// The steps of a write a header belongs to (a bit set).
pub(crate) mod scope {
    /// PutObject, CopyObject, CreateMultipartUpload: the request that starts an object.
    pub(crate) const START: u8 = 1;
    /// UploadPart and UploadPartCopy.
    pub(crate) const PART: u8 = 2;
    /// CompleteMultipartUpload.
    pub(crate) const FINISH: u8 = 4;
    /// GetObject, HeadObject, GetObjectAttributes.
    pub(crate) const READ: u8 = 8;
    /// ListParts of an upload.
    pub(crate) const LIST: u8 = 16;
    /// AbortMultipartUpload.
    pub(crate) const ABORT: u8 = 32;
    /// Where an SSE-C key goes: every request that writes or reads the object's data, and
    /// ListParts (S3 asks for the key there when the upload has checksums).
    pub(crate) const SSE_C: u8 = START | PART | FINISH | READ | LIST;
    /// Every request about the object.
    pub(crate) const ALL: u8 = 0xff;
}

/// Extra request headers set through option setters, each with the steps it goes to.
#[derive(Clone, Default)]
pub(crate) struct ExtraHeaders(Vec<(&'static str, String, u8)>);

impl fmt::Debug for ExtraHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _, _)| n))
            .finish()
    }
}

impl ExtraHeaders {
    /// Sets header `name` (replacing an earlier value) for the steps in `scope`.
    pub(crate) fn set(&mut self, name: &'static str, value: String, scope: u8) {
        self.0.retain(|(n, _, _)| *n != name);
        self.0.push((name, value, scope));
    }

    /// The three SSE-C headers, for the object written or read (`source`: for a copy's
    /// source, `x-amz-copy-source-…`).
    pub(crate) fn sse_customer(&mut self, key: &SseCustomerKey, source: bool, scope: u8) {
        let names = if source {
            [
                "x-amz-copy-source-server-side-encryption-customer-algorithm",
                "x-amz-copy-source-server-side-encryption-customer-key",
                "x-amz-copy-source-server-side-encryption-customer-key-md5",
            ]
        } else {
            [
                "x-amz-server-side-encryption-customer-algorithm",
                "x-amz-server-side-encryption-customer-key",
                "x-amz-server-side-encryption-customer-key-md5",
            ]
        };
        self.set(names[0], "AES256".to_owned(), scope);
        self.set(names[1], key.key.clone(), scope);
        self.set(names[2], key.md5.clone(), scope);
    }

    /// `x-amz-server-side-encryption-context`: the KMS encryption context, the pairs as a
    /// JSON object, base64.
    pub(crate) fn kms_context(&mut self, pairs: &std::collections::BTreeMap<String, String>) {
        let json = serde_json::to_string(pairs).unwrap_or_default();
        let value = crate::base64::encode(json.as_bytes());
        self.set("x-amz-server-side-encryption-context", value, scope::START);
    }

    /// `x-amz-server-side-encryption-bucket-key-enabled`.
    pub(crate) fn bucket_key(&mut self, enabled: bool) {
        let name = "x-amz-server-side-encryption-bucket-key-enabled";
        self.set(name, enabled.to_string(), scope::START);
    }

    /// Whether KMS-only settings (context, bucket key) are set.
    pub(crate) fn has_kms_settings(&self) -> bool {
        self.get("x-amz-server-side-encryption-context").is_some()
            || self
                .get("x-amz-server-side-encryption-bucket-key-enabled")
                .is_some()
    }

    /// `x-amz-request-payer: requester`, on every request.
    pub(crate) fn request_payer(&mut self) {
        self.set("x-amz-request-payer", "requester".to_owned(), scope::ALL);
    }

    /// The headers for the steps in `scope`.
    pub(crate) fn headers(&self, scope: u8) -> Vec<(Cow<'static, str>, String)> {
        self.0
            .iter()
            .filter(|(_, _, s)| s & scope != 0)
            .map(|(n, v, _)| (Cow::Borrowed(*n), v.clone()))
            .collect()
    }

    /// Adds the headers for the steps in `scope` to `req`.
    pub(crate) fn apply(&self, req: OpRequest, scope: u8) -> OpRequest {
        req.headers(self.headers(scope))
    }

    /// The value of header `name`, when set.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, v, _)| v.as_str())
    }

    /// Adds the headers of `other` (replacing those of the same names).
    pub(crate) fn merge(&mut self, other: &ExtraHeaders) {
        for (n, v, s) in &other.0 {
            self.set(n, v.clone(), *s);
        }
    }

    /// Validates the values (printable ASCII); the error names the header, never its value.
    pub(crate) fn validate(&self) -> Result<()> {
        for (n, v, _) in &self.0 {
            crate::request::validate_header_value(n, v)?;
        }
        Ok(())
    }
}

/// Setters for builders with an [`ExtraHeaders`] field, named by its path:
///
/// ```text
/// impl GetObject {
///     extra_setters!(extra => sse_customer_key, request_payer);
/// }
/// ```
macro_rules! extra_setters {
    ($($field:ident).+ => $($name:ident),* $(,)?) => {
        $crate::ops::sse::extra_setters!([$($field).+] $($name),*);
    };
    ([$($field:ident).+] $name:ident $(, $rest:ident)*) => {
        $crate::ops::sse::extra_setters!(@one [$($field).+] $name);
        $crate::ops::sse::extra_setters!([$($field).+] $($rest),*);
    };
    ([$($field:ident).+]) => {};
    (@one [$($field:ident).+] sse_customer_key) => {
        /// Uses server-side encryption with this customer-provided key (SSE-C): the object is
        /// encrypted with it when written and can only be read with it (see
        /// [`SseCustomerKey`](crate::SseCustomerKey)). Refused over plain `http://` to
        /// anything but a loopback address, and together with another server-side encryption
        /// (an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before sending).
        pub fn sse_customer_key(mut self, key: &$crate::ops::sse::SseCustomerKey) -> Self {
            self.$($field).+.sse_customer(key, false, $crate::ops::sse::scope::SSE_C);
            self
        }
    };
    (@one [$($field:ident).+] copy_source_sse_customer_key) => {
        /// The customer-provided key the copy's source was encrypted with (SSE-C), sent as
        /// `x-amz-copy-source-server-side-encryption-customer-*`.
        pub fn copy_source_sse_customer_key(
            mut self,
            key: &$crate::ops::sse::SseCustomerKey,
        ) -> Self {
            self.$($field).+.sse_customer(key, true, $crate::ops::sse::scope::START | $crate::ops::sse::scope::PART);
            self
        }
    };
    (@one [$($field:ident).+] kms_encryption_context) => {
        /// The SSE-KMS encryption context: key-value pairs bound to the object's data key
        /// (sent as `x-amz-server-side-encryption-context`, a base64 JSON object). Needs
        /// [`ServerSideEncryption::Kms`](crate::ServerSideEncryption::Kms).
        pub fn kms_encryption_context<K, V>(
            mut self,
            pairs: impl IntoIterator<Item = (K, V)>,
        ) -> Self
        where
            K: Into<String>,
            V: Into<String>,
        {
            let pairs = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
            self.$($field).+.kms_context(&pairs);
            self
        }
    };
    (@one [$($field:ident).+] bucket_key_enabled) => {
        /// Uses (or not) an S3 Bucket Key for SSE-KMS, which cuts KMS requests
        /// (`x-amz-server-side-encryption-bucket-key-enabled`). Needs
        /// [`ServerSideEncryption::Kms`](crate::ServerSideEncryption::Kms).
        pub fn bucket_key_enabled(mut self, enabled: bool) -> Self {
            self.$($field).+.bucket_key(enabled);
            self
        }
    };
    (@one [$($field:ident).+] request_payer) => {
        /// Agrees to pay for the request on a Requester Pays bucket
        /// (`x-amz-request-payer: requester`); without it such a bucket answers 403.
        pub fn request_payer(mut self) -> Self {
            self.$($field).+.request_payer();
            self
        }
    };
}
pub(crate) use extra_setters;

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    /// Header names are written in lower case, as the request's headers are (the MD5's too).
    #[test]
    fn sse_c_header_names_are_lower_case() {
        let key = SseCustomerKey::new([7u8; 32]).unwrap();
        let mut extra = ExtraHeaders::default();
        extra.sse_customer(&key, false, scope::SSE_C);
        extra.sse_customer(&key, true, scope::PART);
        let names: Vec<String> = extra
            .headers(scope::ALL)
            .into_iter()
            .map(|(n, _)| n.into_owned())
            .collect();
        assert_eq!(names.len(), 6);
        for n in &names {
            assert_eq!(*n, n.to_ascii_lowercase());
        }
        assert!(names.contains(&"x-amz-server-side-encryption-customer-key-md5".to_owned()));
    }
}
