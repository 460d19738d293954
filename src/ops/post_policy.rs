//! Presigned POST: a policy document and the form fields a browser posts to upload one
//! object straight to S3, signed locally.

use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::request::validate_header_value;
use crate::signing::{ALGORITHM, MAX_PRESIGN_EXPIRY_SECS};
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::format_description;

/// The URL and form fields of a presigned POST upload.
///
/// Send a `multipart/form-data` POST to `url` with every field of `fields`, in order, and the
/// file as the last part (named `file`). The `Debug` output hides the signature and the session
/// token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresignedPost {
    /// The form's `action`: the bucket's URL.
    pub url: String,
    /// The form fields, in the order to send them (the file goes after all of them).
    pub fields: Vec<(String, String)>,
}

impl fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(n, v)| match n.as_str() {
                "x-amz-signature" | "x-amz-security-token" | "policy" => {
                    (n.as_str(), "** redacted **")
                }
                _ => (n.as_str(), v.as_str()),
            })
            .collect();
        f.debug_struct("PresignedPost")
            .field("url", &self.url)
            .field("fields", &fields)
            .finish()
    }
}

/// The condition on the key.
#[derive(Debug, Clone)]
enum KeyRule {
    Exact(String),
    StartsWith(String),
}

/// Builds a presigned POST policy for browser uploads. Made by [`Bucket::presign_post`];
/// await it.
///
/// The policy names the bucket, the key (exact, or a prefix with
/// [`key_starts_with`](Self::key_starts_with)), the expiry and every condition set here; the
/// signature covers the base64 policy (SigV4 for POST). No request is sent: awaiting only asks
/// the credentials provider for credentials.
/// See [Browser-based uploads using POST](https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html).
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty key or key prefix
/// (a policy must restrict the key), a bad key, an expiry of zero or of more than 7 days (the
/// limit of presigned URLs, applied here too), a length range whose minimum exceeds its
/// maximum, a `success_action_status` other than 200, 201 or 204, a field name that is not
/// visible ASCII or holds `"`, a field the signer sets (`key`, `bucket`, `policy`, `file`,
/// `x-amz-signature`, `x-amz-date`, …), a field set twice (names compare case-insensitively),
/// or a field value that is not printable ASCII;
/// [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) when no credentials can be had.
///
/// # Cancel safety
///
/// Cancel safe.
#[derive(Debug)]
#[must_use = "a presigned POST is made only when awaited"]
pub struct PresignPost {
    bucket: Bucket,
    key: KeyRule,
    expires_in: Duration,
    length: Option<(u64, u64)>,
    /// Exact-value fields: sent in the form and required by the policy.
    fields: Vec<(String, String)>,
    /// `starts-with` conditions on form fields the uploader fills in.
    starts_with: Vec<(String, String)>,
}

impl Bucket {
    /// A presigned POST that uploads to exactly `key`, valid for `expires_in`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use std::time::Duration;
    /// let post = bucket
    ///     .presign_post("avatars/42.png", Duration::from_secs(600))
    ///     .content_type("image/png")
    ///     .content_length_range(1, 1 << 20)
    ///     .await?;
    /// // An HTML form: <form action="{post.url}" method="post" enctype="multipart/form-data">,
    /// // one hidden input per field, then <input type="file" name="file">.
    /// for (name, value) in &post.fields {
    ///     println!(r#"<input type="hidden" name="{name}" value="{value}">"#);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn presign_post(&self, key: impl Into<String>, expires_in: Duration) -> PresignPost {
        PresignPost {
            bucket: self.clone(),
            key: KeyRule::Exact(key.into()),
            expires_in,
            length: None,
            fields: Vec::new(),
            starts_with: Vec::new(),
        }
    }
}

impl PresignPost {
    /// Accepts any key that starts with `prefix` instead of one exact key; the `key` field is
    /// `prefix` followed by `${filename}`, which S3 replaces with the uploaded file's name.
    pub fn key_starts_with(mut self, prefix: impl Into<String>) -> Self {
        self.key = KeyRule::StartsWith(prefix.into());
        self
    }

    /// Accepts only files of `min` to `max` bytes (`content-length-range`).
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.length = Some((min, max));
        self
    }

    /// Stores the object with this `Content-Type` (a field, required by the policy).
    pub fn content_type(self, value: impl Into<String>) -> Self {
        self.field("Content-Type", value)
    }

    /// Lets the uploader choose a `Content-Type` starting with `prefix` (e.g. `image/`); the
    /// form must then add a `Content-Type` field itself.
    pub fn content_type_starts_with(mut self, prefix: impl Into<String>) -> Self {
        self.starts_with
            .push(("Content-Type".to_owned(), prefix.into()));
        self
    }

    /// The status S3 answers a successful upload with: 200, 201 (with an XML body) or 204
    /// (S3's default).
    pub fn success_action_status(self, status: u16) -> Self {
        self.field("success_action_status", status.to_string())
    }

    /// Stores user metadata `x-amz-meta-<name>` with this value.
    pub fn metadata(self, name: impl AsRef<str>, value: impl Into<String>) -> Self {
        let name = format!("x-amz-meta-{}", name.as_ref().to_ascii_lowercase());
        self.field(name, value)
    }

    /// Adds any other form field with an exact value, required by the policy (e.g. `acl`,
    /// `Cache-Control`, `x-amz-storage-class`, `tagging`).
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    fn check(&self) -> Result<()> {
        match &self.key {
            KeyRule::Exact(k) => crate::request::validate_key(k)?,
            KeyRule::StartsWith(p) if p.is_empty() => {
                return Err(Error::invalid_input(
                    "a POST policy must restrict the key: the key prefix is empty",
                ));
            }
            KeyRule::StartsWith(_) => {}
        }
        if self.expires_in.is_zero() || self.expires_in.as_secs() > MAX_PRESIGN_EXPIRY_SECS {
            return Err(Error::invalid_input(format!(
                "a POST policy's expiry of {} s is outside 1 s ..= {MAX_PRESIGN_EXPIRY_SECS} s (7 days)",
                self.expires_in.as_secs()
            )));
        }
        if let Some((min, max)) = self.length
            && min > max
        {
            return Err(Error::invalid_input(format!(
                "content-length-range {min}..={max} is empty"
            )));
        }
        let mut seen: Vec<String> = Vec::new();
        for (n, v) in self.fields.iter().chain(&self.starts_with) {
            check_field_name(n)?;
            let lower = n.to_ascii_lowercase();
            if seen.contains(&lower) {
                return Err(Error::invalid_input(format!(
                    "form field {n:?} is set twice"
                )));
            }
            seen.push(lower);
            validate_header_value(n, v)?;
        }
        for (n, v) in &self.fields {
            if n.eq_ignore_ascii_case("success_action_status")
                && !matches!(v.as_str(), "200" | "201" | "204")
            {
                return Err(Error::invalid_input(format!(
                    "success_action_status {v} is not 200, 201 or 204"
                )));
            }
        }
        Ok(())
    }

    async fn send(self) -> Result<PresignedPost> {
        let key_text = match &self.key {
            KeyRule::Exact(k) | KeyRule::StartsWith(k) => k.clone(),
        };
        let ctx =
            |e: Error| e.with_context("PresignPost", Some(&self.bucket.name), Some(&key_text));
        self.check().map_err(ctx)?;
        crate::request::validate_bucket(&self.bucket.name).map_err(ctx)?;
        let expires_in = self.expires_in;
        let key_field = match &self.key {
            KeyRule::Exact(k) => k.clone(),
            KeyRule::StartsWith(p) => format!("{p}${{filename}}"),
        };
        let (scope, policy, signature) = self
            .bucket
            .client()
            .transport()
            .sign_post_policy(&self.bucket.name, |scope| {
                let expiration = expiration(scope.now, expires_in)?;
                let mut conditions: Vec<Value> = vec![json!({ "bucket": &*self.bucket.name })];
                conditions.push(match &self.key {
                    KeyRule::Exact(k) => json!(["eq", "$key", k]),
                    KeyRule::StartsWith(p) => json!(["starts-with", "$key", p]),
                });
                if let Some((min, max)) = self.length {
                    conditions.push(json!(["content-length-range", min, max]));
                }
                for (n, v) in &self.fields {
                    conditions.push(json!({ n.as_str(): v }));
                }
                for (n, p) in &self.starts_with {
                    conditions.push(json!(["starts-with", format!("${n}"), p]));
                }
                conditions.push(json!({ "x-amz-algorithm": ALGORITHM }));
                conditions.push(json!({ "x-amz-credential": &scope.credential }));
                conditions.push(json!({ "x-amz-date": &scope.amz_date }));
                if let Some(t) = &scope.session_token {
                    conditions.push(json!({ "x-amz-security-token": t }));
                }
                let doc = json!({ "expiration": expiration, "conditions": conditions });
                Ok(crate::base64::encode(doc.to_string().as_bytes()))
            })
            .await
            .map_err(ctx)?;
        let mut fields = Vec::with_capacity(self.fields.len() + 7);
        fields.push(("key".to_owned(), key_field));
        fields.extend(self.fields);
        fields.push(("policy".to_owned(), policy));
        fields.push(("x-amz-algorithm".to_owned(), ALGORITHM.to_owned()));
        fields.push(("x-amz-credential".to_owned(), scope.credential));
        fields.push(("x-amz-date".to_owned(), scope.amz_date));
        if let Some(t) = scope.session_token {
            fields.push(("x-amz-security-token".to_owned(), t));
        }
        fields.push(("x-amz-signature".to_owned(), signature));
        Ok(PresignedPost {
            url: scope.url,
            fields,
        })
    }
}

/// A form field name the caller may set: visible ASCII other than `"` (it is written into
/// the form's `name="…"`), and none of the names the signer or S3 owns.
fn check_field_name(name: &str) -> Result<()> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
        return Err(Error::invalid_input(format!(
            "form field name {name:?} must be visible ASCII without '\"'"
        )));
    }
    let lower = name.to_ascii_lowercase();
    let reserved = matches!(
        lower.as_str(),
        "key"
            | "policy"
            | "file"
            | "bucket"
            | "x-amz-algorithm"
            | "x-amz-credential"
            | "x-amz-date"
            | "x-amz-security-token"
            | "awsaccesskeyid"
            | "signature"
    ) || lower.starts_with("x-amz-signature");
    if reserved {
        return Err(Error::invalid_input(format!(
            "form field {name:?} is set by the signer"
        )));
    }
    Ok(())
}

/// The policy's `expiration`: `now + expires_in` in UTC, whole seconds rounded down, written
/// `YYYY-MM-DDTHH:MM:SS.000Z` as the POST policy documentation shows it.
///
/// # Errors
///
/// `InvalidInput` when the time cannot be represented (it overflows, or is past year 9999).
fn expiration(now: std::time::SystemTime, expires_in: Duration) -> Result<String> {
    let out_of_range = || Error::invalid_input("the POST policy's expiry is out of range");
    let at = now.checked_add(expires_in).ok_or_else(out_of_range)?;
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| out_of_range())?
        .as_secs();
    let at = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(out_of_range)?;
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].000Z"
    ))
    .map_err(|_| out_of_range())
}

super::into_future!(PresignPost => PresignedPost);

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn expiration_is_whole_seconds_and_never_panics() {
        let now = UNIX_EPOCH + Duration::from_millis(1_999);
        assert_eq!(
            expiration(now, Duration::from_secs(60)).unwrap(),
            "1970-01-01T00:01:01.000Z"
        );
        // 9999-12-31T23:59:59Z is the last time that can be written.
        let last = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
        assert_eq!(
            expiration(last, Duration::ZERO).unwrap(),
            "9999-12-31T23:59:59.000Z"
        );
        for (now, d) in [(last, Duration::from_secs(1)), (now, Duration::MAX)] {
            let e = expiration(now, d).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        }
    }
}
