//! What the SSO files share: the checked profile settings, the "log in again" hint, and the
//! mapping of a refused SSO or OIDC call to a typed error.

use crate::credentials::metadata_http::server_text;
use crate::error::Error;
use crate::transport::simple::SimpleResponse;
use crate::types::S3ErrorBody;
use serde_json::Value;

/// What a profile says about IAM Identity Center, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SsoConfig {
    /// The `[sso-session]` name; `None` for the legacy form.
    pub(crate) session: Option<String>,
    pub(crate) start_url: String,
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) role_name: String,
}

impl SsoConfig {
    /// `sso` of `role` in account `account` (session `corp` | start URL `…`), for
    /// descriptions; never a token.
    pub(crate) fn describe(&self) -> String {
        let via = match &self.session {
            Some(s) => format!("sso-session {s:?}"),
            None => format!("start URL {}", self.start_url),
        };
        format!(
            "sso role {} in account {} ({via})",
            self.role_name, self.account_id
        )
    }
}

/// The error suffix every "log in again" case shares.
pub(crate) fn login_hint(profile: &str) -> String {
    format!("run `aws sso login --profile {profile}`")
}

/// A non-200 answer as an error with the service's code (`x-amzn-errortype`, else the JSON
/// body's `__type`/`code`), message and request id (`x-amzn-requestid`), never one of
/// `secrets` (the tokens and client secret the request carried).
pub(crate) fn service_error(
    who: &str,
    resp: &SimpleResponse,
    secrets: &[&str],
    profile: &str,
) -> Error {
    let redact = |text: &str| {
        let mut text = text.to_owned();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            text = text.replace(secret, "** redacted **");
        }
        server_text(&text)
    };
    let header = |name: &str| {
        resp.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let doc: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let json = |names: &[&str]| {
        names.iter().find_map(|n| {
            doc.as_ref()?
                .get(*n)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    };
    let code = header("x-amzn-errortype")
        .or_else(|| json(&["__type", "code", "error"]))
        .map(|c| redact(c.rsplit('#').next().unwrap_or(&c)));
    let message = json(&["message", "Message", "error_description"]).map(|m| redact(&m));
    let request_id = header("x-amzn-requestid").map(|r| redact(&r));
    let rid = request_id
        .as_deref()
        .map(|r| format!(" [request id {r}]"))
        .unwrap_or_default();
    let hint = match resp.status {
        401 => format!(
            "; the session has expired or was revoked: {}",
            login_hint(profile)
        ),
        403 => "; the user may not use this role in this account".to_owned(),
        _ => String::new(),
    };
    Error::credentials_from_service(
        format!("{who} was refused{hint}{rid}"),
        resp.status,
        S3ErrorBody {
            code,
            message,
            request_id,
            host_id: None,
        },
    )
    .with_retryable(resp.status == 429 || resp.status >= 500)
}
