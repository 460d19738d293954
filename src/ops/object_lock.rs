//! Object Lock on one object: retention (GetObjectRetention, PutObjectRetention) and legal
//! hold (GetObjectLegalHold, PutObjectLegalHold). Deleting past a governance-mode retention
//! is `bypass_governance_retention` on [`DeleteObject`](crate::DeleteObject) and
//! [`DeleteObjects`](crate::DeleteObjects).

use super::MAX_XML_BODY;
use super::sse::{ExtraHeaders, scope};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::headers::request_id;
use crate::request::OpRequest;
use crate::xml;
use http::Method;
use md5::{Digest, Md5};
use std::time::SystemTime;

/// How an object version is locked until its retain-until date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetentionMode {
    /// Users with `s3:BypassGovernanceRetention` can shorten it or delete the version.
    Governance,
    /// Nobody can shorten it or delete the version before the date, not even the root user.
    Compliance,
}

impl RetentionMode {
    fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }
}

/// An object version's retention, as GetObjectRetention reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectRetention {
    /// The retention mode.
    pub mode: Option<RetentionMode>,
    /// Until when the version is locked.
    pub retain_until: Option<SystemTime>,
    /// The request id.
    pub request_id: Option<String>,
}

/// What is asked of an object's lock.
#[derive(Debug, Clone, Copy)]
enum Action {
    GetRetention,
    PutRetention(RetentionMode, SystemTime),
    ClearRetention,
    GetLegalHold,
    PutLegalHold(bool),
}

/// The request shared by the four Object Lock builders.
#[derive(Debug)]
struct LockRequest {
    bucket: Bucket,
    key: String,
    version_id: Option<String>,
    bypass_governance: bool,
    action: Action,
    /// Option headers (request payer).
    extra: ExtraHeaders,
}

impl LockRequest {
    fn operation(&self) -> &'static str {
        match self.action {
            Action::GetRetention => "GetObjectRetention",
            Action::PutRetention(..) | Action::ClearRetention => "PutObjectRetention",
            Action::GetLegalHold => "GetObjectLegalHold",
            Action::PutLegalHold(_) => "PutObjectLegalHold",
        }
    }

    fn ctx(&self, e: Error) -> Error {
        e.with_context(self.operation(), Some(&self.bucket.name), Some(&self.key))
    }

    /// Sends the request; returns the answer's body (empty for a write) and request id.
    async fn exchange(&self) -> Result<(bytes::Bytes, Option<String>)> {
        let sub = match self.action {
            Action::GetRetention | Action::PutRetention(..) | Action::ClearRetention => "retention",
            Action::GetLegalHold | Action::PutLegalHold(_) => "legal-hold",
        };
        let body = match self.action {
            Action::PutRetention(mode, until) => {
                Some(xml::write_retention(mode.as_str(), until).map_err(|e| {
                    self.ctx(Error::invalid_input("retain-until date out of range").with_source(e))
                })?)
            }
            Action::ClearRetention => Some(xml::write_empty_retention()),
            Action::PutLegalHold(on) => Some(xml::write_legal_hold(on)),
            Action::GetRetention | Action::GetLegalHold => None,
        };
        let method = if body.is_some() {
            Method::PUT
        } else {
            Method::GET
        };
        let mut req = OpRequest::new(self.operation(), method)
            .bucket(&self.bucket.name)
            .key(&self.key)
            .query(
                [
                    Some((sub, "")),
                    self.version_id.as_deref().map(|v| ("versionId", v)),
                ]
                .into_iter()
                .flatten(),
            );
        if self.bypass_governance {
            req = req.header("x-amz-bypass-governance-retention", "true");
        }
        req = self.extra.apply(req, scope::ALL);
        if let Some(body) = body {
            // S3 requires Content-MD5 on both lock writes.
            let md5 = crate::base64::encode(&Md5::digest(body.as_bytes()));
            req = req
                .header("content-md5", md5)
                .header("content-type", "application/xml")
                .body(body.into());
        }
        let resp = self.bucket.execute(req).await?;
        let rid = request_id(&resp.headers);
        let bytes = resp
            .bytes_limited(MAX_XML_BODY)
            .await
            .map_err(|e| self.ctx(e))?;
        Ok((bytes, rid))
    }
}

/// Declares one Object Lock builder around a [`LockRequest`].
macro_rules! lock_builder {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// # Errors
        ///
        /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing object or
        /// version; [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied) when the lock
        /// forbids the change; [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse)
        /// for a malformed answer; otherwise the service's error (a bucket without Object
        /// Lock answers `InvalidRequest`).
        ///
        /// # Cancel safety
        ///
        /// Reading is cancel safe; dropping a write may or may not leave the change made.
        #[derive(Debug)]
        #[must_use = "a request does nothing until awaited"]
        pub struct $name {
            inner: LockRequest,
        }

        impl $name {
            /// Addresses this version of the object (`versionId`).
            pub fn version_id(mut self, v: impl Into<String>) -> Self {
                self.inner.version_id = Some(v.into());
                self
            }

            $crate::ops::sse::extra_setters!(inner.extra => request_payer);
        }
    };
}

lock_builder! {
    /// Reads an object version's retention (both fields `None` when it has none: S3's 404
    /// `NoSuchObjectLockConfiguration`). Built by [`Bucket::get_object_retention`]; await it. See the [GetObjectRetention API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html).
    GetObjectRetention
}

lock_builder! {
    /// Locks an object version until a date (sent in whole seconds, rounded up), or removes
    /// its governance-mode retention. Built by [`Bucket::put_object_retention`] and
    /// [`Bucket::clear_object_retention`]; await it. A date after year 9999 is an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before sending. See the [PutObjectRetention API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html).
    PutObjectRetention
}

lock_builder! {
    /// Reads whether an object version is under a legal hold (`false` when none was ever set:
    /// S3's 404 `NoSuchObjectLockConfiguration`). Built by
    /// [`Bucket::get_object_legal_hold`]; await it. See the [GetObjectLegalHold API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html).
    GetObjectLegalHold
}

lock_builder! {
    /// Puts an object version under a legal hold or lifts it. Built by
    /// [`Bucket::put_object_legal_hold`]; await it. See the [PutObjectLegalHold API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLegalHold.html).
    PutObjectLegalHold
}

impl Bucket {
    fn lock(&self, key: String, action: Action) -> LockRequest {
        LockRequest {
            bucket: self.clone(),
            key,
            version_id: None,
            bypass_governance: false,
            action,
            extra: ExtraHeaders::default(),
        }
    }

    /// Reads the retention of `key`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let r = bucket.get_object_retention("ledger.csv").await?;
    /// println!("{:?} until {:?}", r.mode, r.retain_until);
    /// # Ok(()) }
    /// ```
    pub fn get_object_retention(&self, key: impl Into<String>) -> GetObjectRetention {
        GetObjectRetention {
            inner: self.lock(key.into(), Action::GetRetention),
        }
    }

    /// Locks `key` in `mode` until `until`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use async_s3::RetentionMode;
    /// use std::time::{Duration, SystemTime};
    /// let until = SystemTime::now() + Duration::from_secs(30 * 86_400);
    /// bucket
    ///     .put_object_retention("ledger.csv", RetentionMode::Governance, until)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn put_object_retention(
        &self,
        key: impl Into<String>,
        mode: RetentionMode,
        until: SystemTime,
    ) -> PutObjectRetention {
        PutObjectRetention {
            inner: self.lock(key.into(), Action::PutRetention(mode, until)),
        }
    }

    /// Removes the governance-mode retention of `key`: an empty retention, sent with
    /// `x-amz-bypass-governance-retention: true` (needs `s3:BypassGovernanceRetention`). A
    /// compliance-mode retention cannot be removed; S3 refuses with `AccessDenied`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.clear_object_retention("ledger.csv").version_id("v1").await?;
    /// # Ok(()) }
    /// ```
    pub fn clear_object_retention(&self, key: impl Into<String>) -> PutObjectRetention {
        let mut inner = self.lock(key.into(), Action::ClearRetention);
        inner.bypass_governance = true;
        PutObjectRetention { inner }
    }

    /// Reads whether `key` is under a legal hold.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// if bucket.get_object_legal_hold("ledger.csv").await? {
    ///     bucket.put_object_legal_hold("ledger.csv", false).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_object_legal_hold(&self, key: impl Into<String>) -> GetObjectLegalHold {
        GetObjectLegalHold {
            inner: self.lock(key.into(), Action::GetLegalHold),
        }
    }

    /// Puts `key` under a legal hold (`true`) or lifts it (`false`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// bucket.put_object_legal_hold("ledger.csv", true).version_id("v1").await?;
    /// # Ok(()) }
    /// ```
    pub fn put_object_legal_hold(&self, key: impl Into<String>, on: bool) -> PutObjectLegalHold {
        PutObjectLegalHold {
            inner: self.lock(key.into(), Action::PutLegalHold(on)),
        }
    }
}

impl GetObjectRetention {
    async fn send(self) -> Result<ObjectRetention> {
        let r = &self.inner;
        let (body, request_id) = match r.exchange().await {
            Ok(answer) => answer,
            Err(e) if no_lock_configuration(&e) => {
                return Ok(ObjectRetention {
                    mode: None,
                    retain_until: None,
                    request_id: e.request_id().map(str::to_owned),
                });
            }
            Err(e) => return Err(e),
        };
        let (mode, retain_until) = xml::parse_retention(&body)
            .map_err(|e| r.ctx(Error::invalid_response("malformed Retention").with_source(e)))?;
        let mode = match mode.as_deref() {
            None => None,
            Some("GOVERNANCE") => Some(RetentionMode::Governance),
            Some("COMPLIANCE") => Some(RetentionMode::Compliance),
            Some(other) => {
                return Err(r.ctx(Error::invalid_response(format!(
                    "unknown retention mode {other:?}"
                ))));
            }
        };
        Ok(ObjectRetention {
            mode,
            retain_until,
            request_id,
        })
    }
}

impl PutObjectRetention {
    /// Shortens or removes a governance-mode retention
    /// (`x-amz-bypass-governance-retention: true`; needs `s3:BypassGovernanceRetention`).
    pub fn bypass_governance_retention(mut self) -> Self {
        self.inner.bypass_governance = true;
        self
    }

    async fn send(self) -> Result<()> {
        self.inner.exchange().await.map(drop)
    }
}

impl GetObjectLegalHold {
    async fn send(self) -> Result<bool> {
        let r = &self.inner;
        let body = match r.exchange().await {
            Ok((body, _)) => body,
            Err(e) if no_lock_configuration(&e) => return Ok(false),
            Err(e) => return Err(e),
        };
        let status = xml::parse_legal_hold(&body)
            .map_err(|e| r.ctx(Error::invalid_response("malformed LegalHold").with_source(e)))?;
        match status.as_str() {
            "ON" => Ok(true),
            "OFF" => Ok(false),
            other => Err(r.ctx(Error::invalid_response(format!(
                "unknown legal hold status {other:?}"
            )))),
        }
    }
}

impl PutObjectLegalHold {
    async fn send(self) -> Result<()> {
        self.inner.exchange().await.map(drop)
    }
}

/// Whether `e` is S3's answer for an object version with no retention or no legal hold set
/// (404 `NoSuchObjectLockConfiguration`), which reads as "none", like `NoSuchTagSet`.
fn no_lock_configuration(e: &Error) -> bool {
    e.status() == Some(404) && e.s3_code() == Some("NoSuchObjectLockConfiguration")
}

super::into_future!(GetObjectRetention => ObjectRetention);
super::into_future!(PutObjectRetention => ());
super::into_future!(GetObjectLegalHold => bool);
super::into_future!(PutObjectLegalHold => ());
