//! [`Signer`]: the three SigV4 steps tied together for one region and service, with the
//! signing key cached per day and credentials; and [`SigningCredentials`], the borrowed view
//! of credentials it signs with.

use super::chunked::ChunkSigner;
use super::encode::CanonicalQuery;
use super::sigv4::{
    ALGORITHM, HashSink, HmacSha256, MAX_PRESIGN_EXPIRY_SECS, PayloadHash, PresignError,
    SignableRequest, SignedHeaders, SigningKey, credential_scope, feed_string_to_sign, lowercase,
    push_hex, push_scope, push_signed_header_names, write_canonical_request,
};
use super::time_fmt::AmzDate;
use hmac::Mac;
use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::SystemTime;

/// The credentials a signature needs, borrowed: the access key id, the secret access key and,
/// for temporary credentials, the session token. `Debug` shows the key id only.
///
/// [`Credentials`](crate::Credentials) hands one out (`From<&Credentials>`), so the signer's
/// methods take `&credentials` directly; build one with [`new`](Self::new) to sign with keys
/// kept elsewhere.
///
/// # Example
///
/// ```
/// use async_s3::signing::{PayloadHash, SignableRequest, Signer, SigningCredentials};
/// use std::time::UNIX_EPOCH;
///
/// let creds = SigningCredentials::new("AKIDEXAMPLE", "secret", None);
/// let request = SignableRequest {
///     method: "GET",
///     path: "/bucket/key",
///     query: "",
///     headers: &[("host", "s3.amazonaws.com")],
/// };
/// let signed = Signer::new("us-east-1", "s3").sign_headers(creds, UNIX_EPOCH, &request, &PayloadHash::EMPTY);
/// assert!(signed.authorization.contains("Credential=AKIDEXAMPLE/19700101/"));
/// ```
#[derive(Clone, Copy)]
pub struct SigningCredentials<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: Option<&'a str>,
}

impl<'a> SigningCredentials<'a> {
    /// A view of these keys and, for temporary credentials, the session token.
    pub fn new(
        access_key_id: &'a str,
        secret_access_key: &'a str,
        session_token: Option<&'a str>,
    ) -> Self {
        Self {
            access_key_id,
            secret_access_key,
            session_token,
        }
    }
}

impl fmt::Debug for SigningCredentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// The cache entry: which credentials and day the key belongs to, and the HMAC state keyed
/// with it (cloning the keyed state skips the key schedule on every signature).
struct CachedKey {
    date: [u8; 8],
    access_key_id: String,
    secret_access_key: String,
    mac: HmacSha256,
}

/// Signs requests for one region and service, caching the signing key.
///
/// The key is derived once per day and credentials; a signer is cheap to share (`&self`
/// methods, a short lock around the cache only).
pub struct Signer {
    region: String,
    service: String,
    cache: Mutex<Option<CachedKey>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for `region` (e.g. `us-east-1`) and `service` (`s3`).
    pub fn new(region: impl Into<String>, service: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            service: service.into(),
            cache: Mutex::new(None),
        }
    }

    /// The region this signer signs for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The HMAC state keyed with the signing key for these credentials and this day.
    fn keyed_mac(&self, creds: &SigningCredentials<'_>, date: &AmzDate) -> HmacSha256 {
        let day = date.date_bytes();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_ref()
            && c.date == day
            && c.access_key_id == creds.access_key_id
            && c.secret_access_key == creds.secret_access_key
        {
            return c.mac.clone();
        }
        let key = SigningKey::derive(
            creds.secret_access_key,
            date.date(),
            &self.region,
            &self.service,
        );
        let mac = key.mac();
        *cache = Some(CachedKey {
            date: day,
            access_key_id: creds.access_key_id.to_owned(),
            secret_access_key: creds.secret_access_key.to_owned(),
            mac: mac.clone(),
        });
        mac
    }

    /// Signs `request` in the `authorization` header at `time`.
    ///
    /// Returns the headers to add; the request must be sent with exactly the path, query and
    /// headers given here.
    pub fn sign_headers<'c>(
        &self,
        creds: impl Into<SigningCredentials<'c>>,
        time: SystemTime,
        request: &SignableRequest<'_>,
        payload: &PayloadHash,
    ) -> SignedHeaders {
        let creds = creds.into();
        let amz_date = AmzDate::new(time);
        let content_sha256 = payload.header_value();
        let token = creds.session_token;

        let mut sorted: Vec<(Cow<'_, str>, &str)> = Vec::with_capacity(request.headers.len() + 3);
        for (name, value) in request.headers {
            sorted.push((lowercase(name), value));
        }
        sorted.push((Cow::Borrowed("x-amz-content-sha256"), &content_sha256));
        sorted.push((Cow::Borrowed("x-amz-date"), amz_date.as_str()));
        if let Some(t) = token {
            sorted.push((Cow::Borrowed("x-amz-security-token"), t));
        }
        // Stable: values of a repeated header keep their order.
        sorted.sort_by(|a, b| a.0.cmp(&b.0));

        let mut creq = HashSink::new();
        write_canonical_request(
            &mut creq,
            request.method,
            request.path,
            request.query,
            &sorted,
            &content_sha256,
        );
        let creq_hash = creq.finish();

        let date = amz_date.as_str();
        let mut authorization = String::with_capacity(
            ALGORITHM.len()
                + creds.access_key_id.len()
                + self.region.len()
                + self.service.len()
                + 200,
        );
        authorization.push_str(ALGORITHM);
        authorization.push_str(" Credential=");
        authorization.push_str(creds.access_key_id);
        authorization.push('/');
        // The credential scope is written once, into the header, and read back from there.
        let scope_start = authorization.len();
        push_scope(&mut authorization, &date[..8], &self.region, &self.service);
        let scope_end = authorization.len();
        authorization.push_str(", SignedHeaders=");
        push_signed_header_names(&mut authorization, &sorted);
        authorization.push_str(", Signature=");
        // The string to sign goes straight into the keyed HMAC (it is never materialized);
        // the signature's hex goes straight into the header.
        let mut mac = self.keyed_mac(&creds, &amz_date);
        feed_string_to_sign(
            &mut mac,
            date,
            &authorization[scope_start..scope_end],
            &creq_hash,
        );
        push_hex(&mut authorization, &mac.finalize().into_bytes());

        SignedHeaders {
            authorization,
            amz_date: date.to_owned(),
            content_sha256,
            security_token: token.map(str::to_owned),
        }
    }

    /// Starts the chain of chunk signatures of an aws-chunked body, from the headers
    /// [`sign_headers`](Self::sign_headers) returned for the request (its signature is the
    /// seed, its `x-amz-date` the time every chunk is signed at).
    pub fn chunk_signer<'c>(
        &self,
        creds: impl Into<SigningCredentials<'c>>,
        seed: &SignedHeaders,
    ) -> ChunkSigner {
        let creds = creds.into();
        let amz_date = AmzDate::parse(&seed.amz_date).unwrap_or_else(|| {
            // `SignedHeaders` are only made by `sign_headers`, whose date always parses.
            AmzDate::new(SystemTime::UNIX_EPOCH)
        });
        let scope = credential_scope(&amz_date, &self.region, &self.service);
        ChunkSigner::new(
            self.keyed_mac(&creds, &amz_date),
            &amz_date,
            &scope,
            seed.signature(),
        )
    }

    /// Presigns `request` with query parameters, valid for `expires_secs` from `time`.
    ///
    /// `request.query` holds the request's own parameters (from [`CanonicalQuery`]); the
    /// result is the complete canonical query string to send, `X-Amz-Signature` last.
    /// The payload is `UNSIGNED-PAYLOAD`. The session token, if any, is a signed parameter.
    ///
    /// # Errors
    ///
    /// [`PresignError`] when `expires_secs` is 0 or more than seven days (604,800 s).
    pub fn presign_query<'c>(
        &self,
        creds: impl Into<SigningCredentials<'c>>,
        time: SystemTime,
        expires_secs: u64,
        request: &SignableRequest<'_>,
    ) -> Result<String, PresignError> {
        if expires_secs == 0 || expires_secs > MAX_PRESIGN_EXPIRY_SECS {
            return Err(PresignError { expires_secs });
        }
        let creds = creds.into();
        let amz_date = AmzDate::new(time);
        let scope = credential_scope(&amz_date, &self.region, &self.service);

        let mut headers: Vec<(String, &str)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), *v))
            .collect();
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        let sorted: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let mut signed_names = String::new();
        push_signed_header_names(&mut signed_names, &sorted);

        let credential = format!("{}/{scope}", creds.access_key_id);
        let expires = expires_secs.to_string();
        let mut auth_params: Vec<(&str, &str)> = vec![
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", &credential),
            ("X-Amz-Date", amz_date.as_str()),
            ("X-Amz-Expires", &expires),
            ("X-Amz-SignedHeaders", &signed_names),
        ];
        if let Some(t) = creds.session_token {
            auth_params.push(("X-Amz-Security-Token", t));
        }
        let query = CanonicalQuery::merge(request.query, auth_params);

        // The same path as header signing: the canonical request is hashed as it is written
        // and the string to sign fed to the keyed HMAC, neither ever built.
        let mut creq = HashSink::new();
        write_canonical_request(
            &mut creq,
            request.method,
            request.path,
            query.as_str(),
            &sorted,
            "UNSIGNED-PAYLOAD",
        );
        let creq_hash = creq.finish();
        let mut mac = self.keyed_mac(&creds, &amz_date);
        feed_string_to_sign(&mut mac, amz_date.as_str(), &scope, &creq_hash);
        let mut signature = String::with_capacity(64);
        push_hex(&mut signature, &mac.finalize().into_bytes());
        let mut out = query.into_string();
        if !out.is_empty() {
            out.push('&');
        }
        let _ = write!(out, "X-Amz-Signature={signature}");
        Ok(out)
    }
}

// presigned POST (issue 11)
impl Signer {
    /// Signs a browser POST policy: `policy_base64` (the base64 of the policy document) is the
    /// string to sign, and the signing key is the one for the day of `time`, this signer's
    /// region and service. Returns the lowercase hex signature for the `x-amz-signature`
    /// form field.
    ///
    /// # Example
    ///
    /// ```
    /// use async_s3::Credentials;
    /// use async_s3::signing::Signer;
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    /// let time = UNIX_EPOCH + Duration::from_secs(1_451_347_200); // 2015-12-29T00:00:00Z
    /// let sig = Signer::new("us-east-1", "s3").sign_post_policy(&creds, time, "eyJ9");
    /// assert_eq!(sig.len(), 64);
    /// ```
    pub fn sign_post_policy<'c>(
        &self,
        creds: impl Into<SigningCredentials<'c>>,
        time: SystemTime,
        policy_base64: &str,
    ) -> String {
        let creds = creds.into();
        let mut mac = self.keyed_mac(&creds, &AmzDate::new(time));
        mac.update(policy_base64.as_bytes());
        let mut out = String::with_capacity(64);
        push_hex(&mut out, &mac.finalize().into_bytes());
        out
    }
}
