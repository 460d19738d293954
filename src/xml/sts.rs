//! STS answers to `AssumeRoleWithWebIdentity`: the credentials document, the `<Credentials>`
//! element every STS call shares (`assume_role.rs` reads it here too), and the
//! query-protocol `<ErrorResponse>`.

use std::time::SystemTime;

use super::error::XmlError;
use super::reader::{Elem, XmlReader, non_empty, parse_date};

/// The temporary credentials in an `AssumeRoleWithWebIdentityResponse`.
///
/// No `Debug`: it holds a secret and a session token.
pub(crate) struct StsCredentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: String,
    pub(crate) expiration: SystemTime,
}

/// The `<Error>` inside an STS `<ErrorResponse>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StsError {
    /// `Sender` or `Receiver`: whose fault it was.
    pub(crate) kind: Option<String>,
    /// The error code, e.g. `InvalidIdentityToken`.
    pub(crate) code: Option<String>,
    /// The human-readable explanation.
    pub(crate) message: Option<String>,
    /// The request id, from `<ErrorResponse><RequestId>`.
    pub(crate) request_id: Option<String>,
}

/// Parses
/// `AssumeRoleWithWebIdentityResponse/AssumeRoleWithWebIdentityResult/Credentials/{AccessKeyId,
/// SecretAccessKey,SessionToken,Expiration}`; other elements (`AssumedRoleUser`,
/// `ResponseMetadata`, …) are skipped.
///
/// An `<ErrorResponse>` root is `UnexpectedRoot`: try [`parse_sts_error`] on it.
pub(crate) fn parse_assume_role_with_web_identity(body: &[u8]) -> Result<StsCredentials, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "AssumeRoleWithWebIdentityResponse")?;
    let mut found = None;
    while let Some(result) = r.next_child(&root)? {
        if result.name() != b"AssumeRoleWithWebIdentityResult" {
            continue;
        }
        while let Some(creds) = r.next_child(&result)? {
            if creds.name() == b"Credentials" {
                found = Some(read_credentials(&mut r, &creds)?);
            }
        }
    }
    r.finish()?;
    found.ok_or(XmlError::MissingElement("Credentials"))
}

/// 9999-12-31T23:59:59Z in seconds since the epoch (the credentials layer's `LATEST_SECS`).
const LATEST_SECS: u64 = 253_402_300_799;

/// Reads the children of the `<Credentials>` element every STS call answers with
/// (`AssumeRole`, `AssumeRoleWithWebIdentity`): the four fields, each required and trimmed;
/// an `Expiration` past year 9999 is `InvalidValue`.
pub(super) fn read_credentials<'a>(
    r: &mut XmlReader<'a>,
    creds: &Elem<'a>,
) -> Result<StsCredentials, XmlError> {
    let mut id = None;
    let mut secret = None;
    let mut token = None;
    let mut expiration = None;
    while let Some(field) = r.next_child(creds)? {
        match field.name() {
            b"AccessKeyId" => id = non_empty(r.text(&field)?),
            b"SecretAccessKey" => secret = non_empty(r.text(&field)?),
            b"SessionToken" => token = non_empty(r.text(&field)?),
            b"Expiration" => expiration = Some(parse_date(&r.text(&field)?, "Expiration")?),
            _ => {}
        }
    }
    // Past 9999-12-31T23:59:59Z (an offset can push the last day over) a time cannot be
    // written as RFC 3339 again, and `time` panics trying: refused here.
    let latest = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(LATEST_SECS);
    if expiration.is_some_and(|t| t > latest) {
        return Err(XmlError::InvalidValue("Expiration"));
    }
    Ok(StsCredentials {
        access_key_id: trimmed(id, "AccessKeyId")?,
        secret_access_key: trimmed(secret, "SecretAccessKey")?,
        session_token: trimmed(token, "SessionToken")?,
        expiration: expiration.ok_or(XmlError::MissingElement("Expiration"))?,
    })
}

/// A required value with surrounding whitespace removed; blank counts as missing.
fn trimmed(value: Option<String>, field: &'static str) -> Result<String, XmlError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(XmlError::MissingElement(field)),
    }
}

/// Parses `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
///
/// Returns `None` for anything else (another root, malformed XML, an empty body).
pub(crate) fn parse_sts_error(body: &[u8]) -> Option<StsError> {
    let (mut r, root) = XmlReader::open_root(body, "ErrorResponse").ok()?;
    let mut out = StsError::default();
    while let Some(child) = r.next_child(&root).ok()? {
        match child.name() {
            b"Error" => {
                while let Some(field) = r.next_child(&child).ok()? {
                    let slot = match field.name() {
                        b"Type" => &mut out.kind,
                        b"Code" => &mut out.code,
                        b"Message" => &mut out.message,
                        _ => continue,
                    };
                    *slot = non_empty(r.text(&field).ok()?);
                }
            }
            b"RequestId" => out.request_id = non_empty(r.text(&child).ok()?),
            _ => {}
        }
    }
    r.finish().ok()?;
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const OK: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::111122223333:assumed-role/demo/session</Arn>
      <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken> TOKEN/with+chars= </SessionToken>
      <SecretAccessKey>secret&amp;key</SecretAccessKey>
      <Expiration>2030-01-02T03:04:05Z</Expiration>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
    </Credentials>
    <Provider>oidc.example</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;

    #[test]
    fn parses_credentials_in_any_child_order() {
        let c = parse_assume_role_with_web_identity(OK.as_bytes()).unwrap();
        assert_eq!(c.access_key_id, "ASIAEXAMPLE");
        assert_eq!(c.secret_access_key, "secret&key");
        assert_eq!(c.session_token, "TOKEN/with+chars=");
        let secs = c.expiration.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_893_553_445);
    }

    #[test]
    fn missing_or_bad_fields_are_errors() {
        let no_token = OK.replace("<SessionToken> TOKEN/with+chars= </SessionToken>", "");
        assert!(matches!(
            parse_assume_role_with_web_identity(no_token.as_bytes()),
            Err(XmlError::MissingElement("SessionToken"))
        ));
        let blank_id = OK.replace("ASIAEXAMPLE", "  ");
        assert!(matches!(
            parse_assume_role_with_web_identity(blank_id.as_bytes()),
            Err(XmlError::MissingElement("AccessKeyId"))
        ));
        let bad_date = OK.replace("2030-01-02T03:04:05Z", "tomorrow");
        assert!(matches!(
            parse_assume_role_with_web_identity(bad_date.as_bytes()),
            Err(XmlError::InvalidValue("Expiration"))
        ));
        let no_creds = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult/>\
                        </AssumeRoleWithWebIdentityResponse>";
        assert!(matches!(
            parse_assume_role_with_web_identity(no_creds.as_bytes()),
            Err(XmlError::MissingElement("Credentials"))
        ));
        let truncated = &OK[..OK.len() / 2];
        assert!(matches!(
            parse_assume_role_with_web_identity(truncated.as_bytes()),
            Err(XmlError::Malformed(_))
        ));
    }

    /// An Expiration past 9999-12-31T23:59:59Z (an offset can push the last day over) would
    /// panic wherever it is written as RFC 3339 again: refused here.
    #[test]
    fn an_expiration_past_year_9999_is_refused() {
        let last = OK.replace("2030-01-02T03:04:05Z", "9999-12-31T23:59:59Z");
        assert!(parse_assume_role_with_web_identity(last.as_bytes()).is_ok());
        let over = OK.replace("2030-01-02T03:04:05Z", "9999-12-31T23:59:59-00:01");
        assert!(matches!(
            parse_assume_role_with_web_identity(over.as_bytes()),
            Err(XmlError::InvalidValue("Expiration"))
        ));
    }

    #[test]
    fn error_response_is_not_credentials() {
        let err = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>InvalidIdentityToken</Code>
    <Message>Incorrect token audience</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>"#;
        assert!(matches!(
            parse_assume_role_with_web_identity(err.as_bytes()),
            Err(XmlError::UnexpectedRoot { .. })
        ));
        let e = parse_sts_error(err.as_bytes()).unwrap();
        assert_eq!(e.kind.as_deref(), Some("Sender"));
        assert_eq!(e.code.as_deref(), Some("InvalidIdentityToken"));
        assert_eq!(e.message.as_deref(), Some("Incorrect token audience"));
        assert_eq!(
            e.request_id.as_deref(),
            Some("c6104cbe-af31-11e0-8154-cbc7ccf896c7")
        );
        assert!(parse_sts_error(OK.as_bytes()).is_none());
        assert!(parse_sts_error(b"").is_none());
        assert!(parse_sts_error(b"<ErrorResponse><Error>").is_none());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use time::OffsetDateTime;
        use time::format_description::well_known::Rfc3339;

        fn escape(s: &str) -> String {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        }

        proptest! {
            /// What STS writes (escaped, padded, children in any order, unknown elements
            /// around) is what the provider reads.
            #[test]
            fn written_credentials_read_back(
                id in "[A-Z0-9]{16,20}",
                secret in "[A-Za-z0-9/+&<>]{1,40}",
                token in "[A-Za-z0-9/+=&]{1,80}",
                expiry in 0u64..253_402_300_800,
                pad in "[ \n\t]{0,3}",
                rotate in 0usize..4,
            ) {
                let when = UNIX_EPOCH + std::time::Duration::from_secs(expiry);
                let when_text = OffsetDateTime::from(when).format(&Rfc3339).unwrap();
                let mut fields = [
                    format!("<AccessKeyId>{pad}{}{pad}</AccessKeyId>", escape(&id)),
                    format!("<SecretAccessKey>{pad}{}{pad}</SecretAccessKey>", escape(&secret)),
                    format!("<SessionToken>{pad}{}{pad}</SessionToken>", escape(&token)),
                    format!("<Expiration>{pad}{when_text}{pad}</Expiration>"),
                ];
                fields.rotate_left(rotate);
                let doc = format!(
                    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>\
                     <Provider>p</Provider><Credentials>{}<Extra/></Credentials>\
                     </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
                    fields.concat()
                );
                let c = parse_assume_role_with_web_identity(doc.as_bytes()).unwrap();
                prop_assert_eq!(c.access_key_id, id);
                prop_assert_eq!(c.secret_access_key, secret);
                prop_assert_eq!(c.session_token, token);
                prop_assert_eq!(c.expiration, when);
            }

            /// Error documents read back field by field.
            #[test]
            fn written_errors_read_back(
                code in "[A-Za-z]{1,20}",
                message in "[ -~]{1,40}",
                request_id in "[a-f0-9-]{1,36}",
            ) {
                let message = message.trim().to_owned();
                prop_assume!(!message.is_empty());
                let doc = format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                     <Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                    escape(&message)
                );
                let e = parse_sts_error(doc.as_bytes()).unwrap();
                prop_assert_eq!(e.code, Some(code));
                prop_assert_eq!(e.message.map(|m| m.trim().to_owned()), Some(message));
                prop_assert_eq!(e.request_id, Some(request_id));
            }
        }
    }
}
