//! The description of one S3 request, before signing: what operations build and the
//! transport signs and sends (once per attempt). Pure: no I/O here.

use crate::body::Body;
use crate::endpoint::{AddressingStyle, Endpoint, Scheme};
use crate::error::{Error, Result};
use crate::signing::{CanonicalQuery, encode_path};
use http::Method;
use std::borrow::Cow;

/// One S3 request: operation name, target, query, headers and body. Its `Debug` output
/// hides the values of secret headers ([`is_secret_header`]).
pub(crate) struct OpRequest {
    pub(crate) operation: &'static str,
    pub(crate) method: Method,
    pub(crate) bucket: Option<String>,
    pub(crate) key: Option<String>,
    pub(crate) query: CanonicalQuery,
    /// Extra headers, names in lower case.
    pub(crate) headers: Vec<(Cow<'static, str>, String)>,
    pub(crate) body: Body,
    /// A 200 answer may carry an `<Error>` document (CopyObject, CompleteMultipartUpload):
    /// the transport then reads the body and checks it before calling the request a success.
    pub(crate) error_in_200: bool,
    /// Whether sending the request twice has the effect of sending it once. A request that is
    /// not is retried only when it surely did not reach the server (connection refused) or
    /// when the server answered with a retryable error.
    pub(crate) idempotent: bool,
    /// A checksum of the body to compute while sending it and send as a trailing header
    /// (aws-chunked): for stream bodies, which cannot be read twice.
    /// Its value comes back on the response ([`Response::trailer_checksum`](crate::transport::Response)).
    pub(crate) trailer_checksum: Option<crate::checksum::ChecksumAlgorithm>,
    /// A 409 `ConditionalRequestConflict` ends the write for good (CompleteMultipartUpload:
    /// S3 drops the upload), so the retry policy does not send it again.
    pub(crate) conflict_is_final: bool,
}

/// Whether the value of header `name` is a secret that `Debug` output must not show: an SSE-C
/// key (`x-amz-server-side-encryption-customer-key`, and its copy-source twin), the
/// `authorization` header, a session token.
pub(crate) fn is_secret_header(name: &str) -> bool {
    let name = name.trim();
    name.get(name.len().saturating_sub("-customer-key".len())..)
        .is_some_and(|end| end.eq_ignore_ascii_case("-customer-key"))
        || name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("x-amz-security-token")
}

/// A header list for `Debug`, secret values replaced.
struct RedactedHeaders<'a>(&'a [(Cow<'static, str>, String)]);

impl std::fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, v)| {
                let v = if is_secret_header(n) {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (n.as_ref(), v)
            }))
            .finish()
    }
}

impl std::fmt::Debug for OpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpRequest")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("query", &self.query)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &self.body)
            .field("error_in_200", &self.error_in_200)
            .field("idempotent", &self.idempotent)
            .field("trailer_checksum", &self.trailer_checksum)
            .field("conflict_is_final", &self.conflict_is_final)
            .finish()
    }
}

impl OpRequest {
    pub(crate) fn new(operation: &'static str, method: Method) -> Self {
        Self {
            operation,
            method,
            bucket: None,
            key: None,
            query: CanonicalQuery::default(),
            headers: Vec::new(),
            body: Body::empty(),
            error_in_200: false,
            idempotent: true,
            trailer_checksum: None,
            conflict_is_final: false,
        }
    }

    pub(crate) fn bucket(mut self, bucket: &str) -> Self {
        self.bucket = Some(bucket.to_owned());
        self
    }

    pub(crate) fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }

    pub(crate) fn query<I, K, V>(mut self, params: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.query = CanonicalQuery::new(params);
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((Cow::Borrowed(name), value.into()));
        self
    }

    pub(crate) fn headers(mut self, headers: Vec<(Cow<'static, str>, String)>) -> Self {
        self.headers.extend(headers);
        self
    }

    pub(crate) fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    pub(crate) fn not_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }

    pub(crate) fn conflict_is_final(mut self) -> Self {
        self.conflict_is_final = true;
        self
    }

    pub(crate) fn error_in_200(mut self) -> Self {
        self.error_in_200 = true;
        self
    }
}

/// Where a request goes: the `Host` header and the encoded path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) path: String,
}

/// Whether `bucket` can be the first label of a host name.
fn dns_compatible(bucket: &str, https: bool) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.'])
        && !bucket.contains("..")
        // With TLS, a dot would need a certificate for a sub-sub-domain.
        && (!https || !bucket.contains('.'))
}

/// `host[:port]` of an endpoint: the `Host` header of path-style requests.
pub(crate) fn authority(endpoint: &Endpoint) -> String {
    match endpoint.port {
        Some(p) => format!("{}:{p}", endpoint.host),
        None => endpoint.host.clone(),
    }
}

/// Resolves the host and encoded path of a request.
#[cfg(test)]
pub(crate) fn target(
    endpoint: &Endpoint,
    style: AddressingStyle,
    bucket: Option<&str>,
    key: Option<&str>,
) -> Target {
    target_at(endpoint, &authority(endpoint), style, bucket, key)
}

/// [`target`] with the endpoint's [`authority`] worked out once (the transport keeps it).
pub(crate) fn target_at(
    endpoint: &Endpoint,
    authority: &str,
    style: AddressingStyle,
    bucket: Option<&str>,
    key: Option<&str>,
) -> Target {
    let https = endpoint.scheme == Scheme::Https;
    let mut path =
        String::with_capacity(1 + bucket.map_or(0, str::len) + key.map_or(0, |k| k.len() * 3));
    let Some(bucket) = bucket else {
        path.push('/');
        return Target {
            host: authority.to_owned(),
            path,
        };
    };
    let virtual_hosted = match style {
        AddressingStyle::Path => false,
        // (`ClientBuilder::build` refuses virtual-hosted style for IP endpoints.)
        AddressingStyle::VirtualHosted => true,
        _ => endpoint.is_aws && dns_compatible(bucket, https),
    };
    let host = if virtual_hosted {
        path.push('/');
        format!("{bucket}.{authority}")
    } else {
        path.push('/');
        encode_path(&mut path, bucket);
        if key.is_some() {
            path.push('/');
        }
        authority.to_owned()
    };
    if let Some(k) = key {
        encode_path(&mut path, k);
    }
    Target { host, path }
}

/// Checks a bucket name against the S3 rules that matter for building a request.
pub(crate) fn validate_bucket(bucket: &str) -> Result<()> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "bucket name {bucket:?} is not valid: 3 to 63 characters of letters, digits, '-', '.' or '_'"
        )))
    }
}

/// Checks an object key: 1 to 1024 bytes, and no `.` or `..` path segment.
///
/// Dot segments are refused because the HTTP stack (the WHATWG URL parser inside reqwest)
/// would resolve them, so the request would silently address a different key.
pub(crate) fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid_input("object key is empty"));
    }
    if key.len() > 1024 {
        return Err(Error::invalid_input(format!(
            "object key is {} bytes; S3 allows at most 1024",
            key.len()
        )));
    }
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(Error::invalid_input(format!(
            "object key {key:?} has a '.' or '..' segment, which HTTP URL parsing would resolve \
             into another key; such keys are not supported"
        )));
    }
    Ok(())
}

/// Checks a header value: printable ASCII and spaces only. S3 metadata must be ASCII, and a
/// tab would be signed as is while servers strip it, breaking the signature (TEST-PLAN S5).
pub(crate) fn validate_header_value(name: &str, value: &str) -> Result<()> {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "header {name} must be printable ASCII (encode non-ASCII metadata, e.g. RFC 2047)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap()
    }

    #[test]
    fn path_style_for_custom_endpoints() {
        let t = target(
            &ep("http://127.0.0.1:9000"),
            AddressingStyle::Auto,
            Some("b"),
            Some("a b/c+d"),
        );
        assert_eq!(t.host, "127.0.0.1:9000");
        assert_eq!(t.path, "/b/a%20b/c%2Bd");
        let t = target(
            &ep("http://127.0.0.1:9000"),
            AddressingStyle::Auto,
            Some("bkt"),
            None,
        );
        assert_eq!(t.path, "/bkt");
        let t = target(
            &ep("http://127.0.0.1:9000"),
            AddressingStyle::Auto,
            None,
            None,
        );
        assert_eq!(t.path, "/");
    }

    #[test]
    fn virtual_hosted_for_aws_when_the_name_is_a_label() {
        let aws = Endpoint::aws("eu-west-1");
        let t = target(&aws, AddressingStyle::Auto, Some("photos"), Some("k//x"));
        assert_eq!(t.host, "photos.s3.eu-west-1.amazonaws.com");
        assert_eq!(t.path, "/k//x");
        // Dots over https and upper case fall back to path style.
        let t = target(&aws, AddressingStyle::Auto, Some("my.bucket"), Some("k"));
        assert_eq!(t.path, "/my.bucket/k");
        let t = target(&aws, AddressingStyle::Auto, Some("Upper"), Some("k"));
        assert_eq!(t.path, "/Upper/k");
    }

    /// The SSE-C key, a copy source's key, the authorization and the session token never
    /// show in `Debug`; other header values do.
    #[test]
    fn debug_hides_secret_header_values() {
        let canary = "CANARY-6f1d0c";
        let req = OpRequest::new("PutObject", Method::PUT)
            .header("x-amz-server-side-encryption-customer-key", canary)
            .header(
                "x-amz-copy-source-server-side-encryption-customer-key",
                canary,
            )
            .header("authorization", canary)
            .header("x-amz-security-token", canary)
            .header("x-amz-server-side-encryption-customer-key-MD5", "md5-shown")
            .header("content-type", "text/plain");
        let shown = format!("{req:?}");
        assert!(!shown.contains(canary), "{shown}");
        assert!(
            shown.contains("md5-shown") && shown.contains("text/plain"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(is_secret_header(
            "X-Amz-Server-Side-Encryption-Customer-Key"
        ));
        assert!(!is_secret_header(
            "x-amz-server-side-encryption-customer-key-md5"
        ));
    }

    #[test]
    fn keys_are_validated() {
        assert!(validate_key("a/b c/~x").is_ok());
        assert!(validate_key("a//b").is_ok());
        assert!(validate_key("a/..b/c.").is_ok());
        for bad in ["", "a/./b", "a/../b", "..", ".", "x/.."] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
        assert!(validate_key(&"k".repeat(1024)).is_ok());
        assert!(validate_key(&"k".repeat(1025)).is_err());
    }
}
