//! Tagging: Get/Put/DeleteObjectTagging and Get/Put/DeleteBucketTagging, the `x-amz-tagging`
//! header of writes, and S3's tag limits (checked before anything is sent).

use super::MAX_XML_BODY;
use super::sse::{ExtraHeaders, scope};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::headers::{header_string, request_id};
use crate::request::OpRequest;
use crate::signing::encode_query_component;
use crate::xml;
use http::Method;
use md5::{Digest, Md5};

/// The most tags an object may have.
pub const MAX_OBJECT_TAGS: usize = 10;
/// The most tags a bucket may have.
pub const MAX_BUCKET_TAGS: usize = 50;
/// The longest tag key, in characters.
const MAX_TAG_KEY: usize = 128;
/// The longest tag value, in characters.
const MAX_TAG_VALUE: usize = 256;

/// Collects tags given as pairs.
pub(crate) fn collect<I, K, V>(tags: I) -> Option<Vec<(String, String)>>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    Some(
        tags.into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
    )
}

/// Checks S3's limits: at most `max` tags, keys of 1 to 128 characters, values of at most 256,
/// no key twice, no key starting with `aws:` (in any case; reserved for AWS).
pub(crate) fn validate(tags: &[(String, String)], max: usize) -> Result<()> {
    if tags.len() > max {
        return Err(Error::invalid_input(format!(
            "{} tags given; S3 allows at most {max}",
            tags.len()
        )));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        let key_chars = k.chars().count();
        if key_chars == 0 || key_chars > MAX_TAG_KEY {
            return Err(Error::invalid_input(format!(
                "tag key of {key_chars} characters; S3 allows 1 to {MAX_TAG_KEY}"
            )));
        }
        let value_chars = v.chars().count();
        if value_chars > MAX_TAG_VALUE {
            return Err(Error::invalid_input(format!(
                "the value of tag {k:?} has {value_chars} characters; S3 allows at most {MAX_TAG_VALUE}"
            )));
        }
        if k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(Error::invalid_input(format!(
                "tag key {k:?}: the aws: prefix is reserved for AWS"
            )));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(Error::invalid_input(format!("tag key {k:?} given twice")));
        }
    }
    Ok(())
}

/// The `x-amz-tagging` value: `key=value` pairs joined by `&`, each side URL-encoded.
pub(crate) fn header_value(tags: &[(String, String)], max: usize) -> Result<String> {
    validate(tags, max)?;
    let mut out = String::new();
    for (i, (k, v)) in tags.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_query_component(&mut out, k);
        out.push('=');
        encode_query_component(&mut out, v);
    }
    Ok(out)
}

/// Declares `.tagging(..)` on a builder with a `headers: ObjectHeaders` field.
macro_rules! tagging_setter {
    () => {
        /// Tags the new object (`x-amz-tagging`). At most 10 tags, keys of 1 to 128 and
        /// values of at most 256 characters, each key once, no key starting with `aws:`:
        /// anything else is an
        /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before sending.
        pub fn tagging<I, K, V>(mut self, tags: I) -> Self
        where
            I: IntoIterator<Item = (K, V)>,
            K: Into<String>,
            V: Into<String>,
        {
            self.headers.tags = $crate::ops::tagging::collect(tags);
            self
        }
    };
}
pub(crate) use tagging_setter;

/// What a tagging operation addresses.
#[derive(Debug, Clone)]
enum Target {
    Object {
        key: String,
        version_id: Option<String>,
    },
    Bucket {
        /// A version id asked for on a bucket: refused when sent.
        version_id: Option<String>,
    },
}

/// The tags of an object or bucket, and which object version they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaggingOutput {
    /// The tags as `(key, value)` pairs, in the server's order (empty for Put and Delete).
    pub tags: Vec<(String, String)>,
    /// The object version the tags belong to, for versioned buckets.
    pub version_id: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

/// Reads, replaces or removes the tags of an object or a bucket. Built by
/// [`Bucket::get_object_tagging`], [`Bucket::put_object_tagging`],
/// [`Bucket::delete_object_tagging`] and their bucket siblings; await it.
///
/// See the [GetObjectTagging](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html),
/// [PutObjectTagging](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html)
/// and [GetBucketTagging](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html)
/// API references.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before anything is sent, for
/// tags over S3's limits (10 per object, 50 per bucket, keys 1 to 128 and values up to 256
/// characters, no key twice), a tag key starting with `aws:` (reserved for AWS), or a
/// version id on a bucket;
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing object; otherwise the
/// service's error. A bucket without tags reads as an empty list (S3's `NoSuchTagSet`).
///
/// # Cancel safety
///
/// Reading is cancel safe; dropping a Put or Delete may or may not leave the tags changed.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct Tagging {
    bucket: Bucket,
    target: Target,
    /// `None`: read; `Some(tags)`: replace; `Some` of nothing with `delete`: remove.
    tags: Option<Vec<(String, String)>>,
    delete: bool,
    /// Option headers (request payer).
    extra: ExtraHeaders,
}

impl Bucket {
    fn tagging(
        &self,
        target: Target,
        tags: Option<Vec<(String, String)>>,
        delete: bool,
    ) -> Tagging {
        Tagging {
            bucket: self.clone(),
            target,
            tags,
            delete,
            extra: ExtraHeaders::default(),
        }
    }

    /// Reads the tags of `key`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// for (k, v) in bucket.get_object_tagging("report.csv").await?.tags {
    ///     println!("{k}={v}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_object_tagging(&self, key: impl Into<String>) -> Tagging {
        self.tagging(
            Target::Object {
                key: key.into(),
                version_id: None,
            },
            None,
            false,
        )
    }

    /// Replaces the tags of `key` (at most 10).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.put_object_tagging("report.csv", [("team", "data"), ("year", "2024")]).await?;
    /// # Ok(()) }
    /// ```
    pub fn put_object_tagging<I, K, V>(&self, key: impl Into<String>, tags: I) -> Tagging
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.tagging(
            Target::Object {
                key: key.into(),
                version_id: None,
            },
            collect(tags),
            false,
        )
    }

    /// Removes every tag of `key`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.delete_object_tagging("report.csv").await?;
    /// # Ok(()) }
    /// ```
    pub fn delete_object_tagging(&self, key: impl Into<String>) -> Tagging {
        self.tagging(
            Target::Object {
                key: key.into(),
                version_id: None,
            },
            Some(Vec::new()),
            true,
        )
    }

    /// Reads the bucket's tags (an empty list when it has none).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let tags = bucket.get_bucket_tagging().await?.tags;
    /// println!("{tags:?}");
    /// # Ok(()) }
    /// ```
    pub fn get_bucket_tagging(&self) -> Tagging {
        self.tagging(Target::Bucket { version_id: None }, None, false)
    }

    /// Replaces the bucket's tags (at most 50).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.put_bucket_tagging([("cost-center", "42")]).await?;
    /// # Ok(()) }
    /// ```
    pub fn put_bucket_tagging<I, K, V>(&self, tags: I) -> Tagging
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.tagging(Target::Bucket { version_id: None }, collect(tags), false)
    }

    /// Removes every tag of the bucket.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.delete_bucket_tagging().await?;
    /// # Ok(()) }
    /// ```
    pub fn delete_bucket_tagging(&self) -> Tagging {
        self.tagging(Target::Bucket { version_id: None }, Some(Vec::new()), true)
    }
}

impl Tagging {
    /// Addresses this version of the object (`versionId`). Objects only: on a bucket
    /// operation it is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error.
    pub fn version_id(mut self, v: impl Into<String>) -> Self {
        match &mut self.target {
            Target::Object { version_id, .. } | Target::Bucket { version_id } => {
                *version_id = Some(v.into());
            }
        }
        self
    }

    super::sse::extra_setters!(extra => request_payer);

    fn operation(&self) -> &'static str {
        let object = matches!(self.target, Target::Object { .. });
        match (self.delete, &self.tags, object) {
            (true, _, true) => "DeleteObjectTagging",
            (true, _, false) => "DeleteBucketTagging",
            (false, None, true) => "GetObjectTagging",
            (false, None, false) => "GetBucketTagging",
            (false, Some(_), true) => "PutObjectTagging",
            (false, Some(_), false) => "PutBucketTagging",
        }
    }

    async fn send(self) -> Result<TaggingOutput> {
        let op = self.operation();
        let key = match &self.target {
            Target::Object { key, .. } => Some(key.as_str()),
            Target::Bucket { .. } => None,
        };
        let ctx = |e: Error| e.with_context(op, Some(&self.bucket.name), key);
        let (version_id, max) = match &self.target {
            Target::Object { version_id, .. } => (version_id.as_deref(), MAX_OBJECT_TAGS),
            Target::Bucket {
                version_id: Some(_),
            } => {
                return Err(ctx(Error::invalid_input(
                    "a version id addresses an object version; bucket tags have none",
                )));
            }
            Target::Bucket { version_id: None } => (None, MAX_BUCKET_TAGS),
        };
        let method = match (self.delete, &self.tags) {
            (true, _) => Method::DELETE,
            (false, None) => Method::GET,
            (false, Some(_)) => Method::PUT,
        };
        let mut req = OpRequest::new(op, method.clone()).bucket(&self.bucket.name);
        if let Some(k) = key {
            req = req.key(k);
        }
        req = req.query(
            [Some(("tagging", "")), version_id.map(|v| ("versionId", v))]
                .into_iter()
                .flatten(),
        );
        req = self.extra.apply(req, scope::ALL);
        if method == Method::PUT {
            let tags = self.tags.as_deref().unwrap_or_default();
            validate(tags, max).map_err(ctx)?;
            let body = xml::write_tagging(tags).map_err(|e| {
                ctx(Error::invalid_input("a tag cannot be written in XML").with_source(e))
            })?;
            // S3 requires Content-MD5 on tagging writes.
            let md5 = crate::base64::encode(&Md5::digest(body.as_bytes()));
            req = req
                .header("content-md5", md5)
                .header("content-type", "application/xml")
                .body(body.into());
        }
        let resp = match self.bucket.execute(req).await {
            Ok(r) => r,
            // A bucket that never had tags answers 404 NoSuchTagSet.
            Err(e)
                if key.is_none()
                    && method == Method::GET
                    && e.s3_code() == Some("NoSuchTagSet") =>
            {
                return Ok(TaggingOutput {
                    tags: Vec::new(),
                    version_id: None,
                    request_id: e.request_id().map(str::to_owned),
                });
            }
            Err(e) => return Err(e),
        };
        let out_version = header_string(&resp.headers, "x-amz-version-id");
        let rid = request_id(&resp.headers);
        let tags = if method == Method::GET {
            let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
            xml::parse_tagging(&body)
                .map_err(|e| ctx(Error::invalid_response("malformed Tagging").with_source(e)))?
        } else {
            Vec::new()
        };
        Ok(TaggingOutput {
            tags,
            version_id: out_version,
            request_id: rid,
        })
    }
}

super::into_future!(Tagging => TaggingOutput);

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn header_value_is_url_encoded() {
        let v = header_value(&tags(&[("a b", "c&d=e"), ("日", "+/~")]), 10).unwrap();
        assert_eq!(v, "a%20b=c%26d%3De&%E6%97%A5=%2B%2F~");
    }

    #[test]
    fn limits() {
        let eleven: Vec<_> = (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(validate(&eleven[..10], MAX_OBJECT_TAGS).is_ok());
        assert!(validate(&eleven, MAX_OBJECT_TAGS).is_err());
        assert!(validate(&eleven, MAX_BUCKET_TAGS).is_ok());
        // Characters, not bytes: 128 three-byte characters are fine.
        let k128 = "日".repeat(128);
        assert!(validate(&[(k128.clone(), "v".repeat(256))], 10).is_ok());
        for bad in [
            vec![(format!("{k128}x"), String::new())],
            vec![("k".to_owned(), "v".repeat(257))],
            vec![(String::new(), "v".to_owned())],
            tags(&[("k", "1"), ("k", "2")]),
            tags(&[("aws:x", "1")]),
            tags(&[("Aws:", "1")]),
        ] {
            let e = validate(&bad, 10).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
