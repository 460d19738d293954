//! What the HTTP credential providers (container, instance metadata, STS web identity)
//! share: the lazily built plain HTTP client, the JSON credentials document that container
//! endpoints and instance metadata both answer with, and the sanitizing of text a server sent
//! before it goes into an error message (control characters dropped, length bounded, never a
//! secret quoted from a document).

use super::Credentials;
use crate::error::{Error, Result};
use crate::transport::simple::SimpleHttp;
use serde::Deserialize;
use std::time::{Duration, SystemTime};
use tokio::sync::OnceCell;

/// Builds the provider's HTTP client on first use.
pub(super) async fn shared_http<'a>(
    cell: &'a OnceCell<SimpleHttp>,
    timeout: Duration,
    provider: &'static str,
) -> Result<&'a SimpleHttp> {
    cell.get_or_try_init(|| async { SimpleHttp::new(timeout) })
        .await
        .map_err(|e| Error::credentials(format!("{provider}: no HTTP client")).with_source(e))
}

/// The credentials document of the container endpoint and of instance metadata. Unknown
/// fields (`LastUpdated`, `Type`, `RoleArn`, …) are ignored.
///
/// No `Debug`: it holds a secret.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct JsonCredentials {
    /// `Success` from instance metadata; absent from container endpoints.
    pub(super) code: Option<String>,
    /// An explanation accompanying a `Code` other than `Success`.
    pub(super) message: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
}

impl JsonCredentials {
    /// Parses the document. The error never quotes the body (it may hold a secret).
    pub(super) fn parse(provider: &'static str, body: &[u8]) -> Result<Self> {
        serde_json::from_slice(body).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Eof => "truncated JSON",
                serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                    "malformed JSON"
                }
                serde_json::error::Category::Data => "JSON of the wrong shape",
            };
            Error::credentials(format!(
                "{provider}: the credentials answer is {what} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }

    /// The credentials, with the session token and expiry when present.
    pub(super) fn into_credentials(self, provider: &'static str) -> Result<Credentials> {
        let required = |v: Option<String>, field: &str| {
            v.map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    Error::credentials(format!("{provider}: the credentials answer has no {field}"))
                })
        };
        let id = required(self.access_key_id, "AccessKeyId")?;
        let secret = required(self.secret_access_key, "SecretAccessKey")?;
        let mut creds = Credentials::new(id, secret);
        if let Some(token) = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            creds = creds.with_session_token(token);
        }
        if let Some(exp) = self
            .expiration
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            creds = creds.with_expiry(parse_expiration(provider, exp)?);
        }
        Ok(creds)
    }
}

/// Parses an RFC 3339 `Expiration`.
fn parse_expiration(provider: &'static str, text: &str) -> Result<SystemTime> {
    super::parse_rfc3339(text).ok_or_else(|| {
        Error::credentials(format!(
            "{provider}: the Expiration {:?} is not an RFC 3339 time",
            server_text(text)
        ))
    })
}

/// Text a server sent, made fit for an error message: control characters dropped, at most
/// 200 characters.
pub(super) fn server_text(text: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(MAX).collect();
    if text.chars().filter(|c| !c.is_control()).nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// `": <code>: <message>"` from a JSON error body (`code`/`message`, either case), or nothing.
pub(super) fn json_error_detail(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct JsonError {
        #[serde(alias = "Code")]
        code: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let Ok(e) = serde_json::from_slice::<JsonError>(body) else {
        return String::new();
    };
    match (e.code, e.message) {
        (Some(c), Some(m)) => format!(": {}: {}", server_text(&c), server_text(&m)),
        (Some(s), None) | (None, Some(s)) => format!(": {}", server_text(&s)),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;
    use time::{OffsetDateTime, format_description::well_known::Rfc3339};

    #[test]
    fn server_text_is_bounded() {
        assert_eq!(server_text("a\r\nb"), "ab");
        let long = "x".repeat(500);
        assert_eq!(server_text(&long).chars().count(), 201);
    }

    /// An Expiration past year 9999 (here by its offset) is refused, not kept to panic later.
    #[test]
    fn an_expiration_past_year_9999_is_refused() {
        assert!(parse_expiration("container", "9999-12-31T23:59:59Z").is_ok());
        let e = parse_expiration("container", "9999-12-31T23:59:59-01:00").unwrap_err();
        assert!(e.to_string().contains("is not an RFC 3339 time"), "{e}");
    }

    mod properties {
        use super::*;
        use crate::credentials::json_strategy::{CANARY, document};
        use proptest::prelude::*;

        const FIELDS: &[&str] = &[
            "Code",
            "Message",
            "AccessKeyId",
            "SecretAccessKey",
            "Token",
            "Expiration",
            "LastUpdated",
            "Type",
        ];

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
                if let Ok(doc) = JsonCredentials::parse("c", &bytes) {
                    let _ = doc.into_credentials("c");
                }
                let _ = json_error_detail(&bytes);
            }

            /// Documents of every shape: no panic, and an error never quotes a secret.
            #[test]
            fn errors_never_quote_a_secret(doc in document(FIELDS, &["SecretAccessKey", "Token"])) {
                let result = JsonCredentials::parse("c", &doc)
                    .and_then(|d| d.into_credentials("c"));
                if let Err(e) = result {
                    let text = format!("{e} {e:?}");
                    prop_assert!(!text.contains(CANARY), "{}", text);
                }
                prop_assert!(!json_error_detail(&doc).contains(CANARY));
            }

            /// What the endpoint sends is what the provider reads.
            #[test]
            fn written_documents_read_back(
                id in "[A-Z0-9]{16,20}",
                secret in "[A-Za-z0-9/+]{1,40}",
                token in proptest::option::of("[A-Za-z0-9/+=]{1,60}"),
                expiry in proptest::option::of(0u64..253_402_300_800),
            ) {
                let mut doc = serde_json::json!({
                    "Code": "Success", "AccessKeyId": id, "SecretAccessKey": secret, "Type": "AWS-HMAC",
                });
                if let Some(t) = &token {
                    doc["Token"] = t.clone().into();
                }
                let expiry = expiry.map(|s| UNIX_EPOCH + Duration::from_secs(s));
                if let Some(e) = expiry {
                    doc["Expiration"] = OffsetDateTime::from(e).format(&Rfc3339).unwrap().into();
                }
                let parsed = JsonCredentials::parse("c", doc.to_string().as_bytes()).unwrap();
                prop_assert_eq!(parsed.code.as_deref(), Some("Success"));
                let c = parsed.into_credentials("c").unwrap();
                prop_assert_eq!(c.access_key_id(), id.as_str());
                prop_assert_eq!(c.secret_access_key(), secret.as_str());
                prop_assert_eq!(c.session_token(), token.as_deref());
                prop_assert_eq!(c.expiry(), expiry);
            }
        }
    }
}
