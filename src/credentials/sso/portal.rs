//! The IAM Identity Center portal's `GetRoleCredentials`: `GET /federation/credentials?
//! account_id=…&role_name=…` with the access token in `x-amz-sso_bearer_token`, answered with
//! `{"roleCredentials": {"accessKeyId", "secretAccessKey", "sessionToken", "expiration"}}`
//! (expiration in milliseconds since the epoch, refused past year 9999).

use super::shared::{SsoConfig, service_error};
use crate::credentials::metadata_http::server_text;
use crate::credentials::{Credentials, LATEST_SECS};
use crate::error::{Error, Result};
use crate::signing::encode_query_component;
use crate::transport::simple::SimpleHttp;
use serde_json::Value;
use std::time::{Duration, UNIX_EPOCH};

/// Asks the portal at `portal` (no trailing slash) for the role's credentials.
///
/// # Errors
///
/// `Credentials` naming the profile: no answer; a refusal with the service's code, message
/// and request id (401 says to log in again); an answer without the four fields.
pub(super) async fn role_credentials(
    http: &SimpleHttp,
    portal: &str,
    config: &SsoConfig,
    access_token: &str,
    profile: &str,
) -> Result<Credentials> {
    let mut url = format!("{portal}/federation/credentials?account_id=");
    encode_query_component(&mut url, &config.account_id);
    url.push_str("&role_name=");
    encode_query_component(&mut url, &config.role_name);
    let who = format!(
        "profile {profile:?}: IAM Identity Center GetRoleCredentials for role {} in account {}",
        config.role_name, config.account_id
    );
    let headers = [
        ("x-amz-sso_bearer_token", access_token),
        ("accept", "application/json"),
    ];
    let resp = http.send("GET", &url, &headers, None).await.map_err(|e| {
        let retryable = e.is_retryable();
        Error::credentials(format!("{who}: no answer from {}", server_text(portal)))
            .with_retryable(retryable)
            .with_source(e)
    })?;
    if resp.status != 200 {
        return Err(service_error(&who, &resp, &[access_token], profile));
    }
    let doc: Value = serde_json::from_slice(&resp.body)
        .map_err(|_| Error::credentials(format!("{who}: the answer is not a JSON document")))?;
    let creds = doc.get("roleCredentials");
    let field = |name: &str| {
        creds
            .and_then(|c| c.get(name))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::credentials(format!("{who}: the answer has no {name}")))
    };
    let (id, secret, token) = (
        field("accessKeyId")?,
        field("secretAccessKey")?,
        field("sessionToken")?,
    );
    let millis = creds
        .and_then(|c| c.get("expiration"))
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::credentials(format!("{who}: the answer has no expiration")))?;
    // Bounded before use: past year 9999 a time cannot be written again (logs).
    let expiry = UNIX_EPOCH
        .checked_add(Duration::from_millis(millis))
        .filter(|t| *t <= UNIX_EPOCH + Duration::from_secs(LATEST_SECS))
        .ok_or_else(|| {
            Error::credentials(format!(
                "{who}: the answer's expiration ({millis} ms since 1970) is past year 9999"
            ))
        })?;
    Ok(Credentials::new(id, secret)
        .with_session_token(token)
        .with_expiry(expiry))
}
