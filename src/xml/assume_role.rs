//! The STS `AssumeRole` answer: `AssumeRoleResponse/AssumeRoleResult/Credentials`. Errors come
//! as the same query-protocol `<ErrorResponse>` as the other STS calls
//! ([`parse_sts_error`](super::parse_sts_error)).

use super::error::XmlError;
use super::reader::{Elem, XmlReader, non_empty, parse_date};
use super::sts::StsCredentials;

/// Parses
/// `AssumeRoleResponse/AssumeRoleResult/Credentials/{AccessKeyId,SecretAccessKey,SessionToken,
/// Expiration}`; other elements (`AssumedRoleUser`, `PackedPolicySize`, `ResponseMetadata`, …)
/// are skipped.
///
/// An `<ErrorResponse>` root is `UnexpectedRoot`: try `parse_sts_error` on it.
pub(crate) fn parse_assume_role(body: &[u8]) -> Result<StsCredentials, XmlError> {
    let (mut r, root) = XmlReader::open_root(body, "AssumeRoleResponse")?;
    let mut found = None;
    while let Some(result) = r.next_child(&root)? {
        if result.name() != b"AssumeRoleResult" {
            continue;
        }
        while let Some(creds) = r.next_child(&result)? {
            if creds.name() == b"Credentials" {
                found = Some(credentials(&mut r, &creds)?);
            }
        }
    }
    r.finish()?;
    found.ok_or(XmlError::MissingElement("Credentials"))
}

/// The four children of `<Credentials>`, each required and trimmed.
fn credentials<'a>(r: &mut XmlReader<'a>, elem: &Elem<'a>) -> Result<StsCredentials, XmlError> {
    let (mut id, mut secret, mut token, mut expiration) = (None, None, None, None);
    while let Some(field) = r.next_child(elem)? {
        match field.name() {
            b"AccessKeyId" => id = non_empty(r.text(&field)?),
            b"SecretAccessKey" => secret = non_empty(r.text(&field)?),
            b"SessionToken" => token = non_empty(r.text(&field)?),
            b"Expiration" => expiration = Some(parse_date(&r.text(&field)?, "Expiration")?),
            _ => {}
        }
    }
    let required = |v: Option<String>, name: &'static str| match v {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(XmlError::MissingElement(name)),
    };
    Ok(StsCredentials {
        access_key_id: required(id, "AccessKeyId")?,
        secret_access_key: required(secret, "SecretAccessKey")?,
        session_token: required(token, "SessionToken")?,
        expiration: expiration.ok_or(XmlError::MissingElement("Expiration"))?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    /// The example answer of the STS API reference's AssumeRole page (token shortened).
    const OK: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
  <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>
       AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW
      </SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>"#;

    #[test]
    fn parses_the_documented_answer() {
        let c = parse_assume_role(OK.as_bytes()).unwrap();
        assert_eq!(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(
            c.secret_access_key,
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
        );
        assert_eq!(
            c.session_token,
            "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"
        );
        let secs = c.expiration.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_573_306_481);
    }

    #[test]
    fn other_roots_and_missing_fields_are_errors() {
        let web = OK.replace("AssumeRoleResponse", "AssumeRoleWithWebIdentityResponse");
        assert!(matches!(
            parse_assume_role(web.as_bytes()),
            Err(XmlError::UnexpectedRoot { .. })
        ));
        let no_secret = OK.replace("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY", " ");
        assert!(matches!(
            parse_assume_role(no_secret.as_bytes()),
            Err(XmlError::MissingElement("SecretAccessKey"))
        ));
        let no_expiry = OK.replace("<Expiration>2019-11-09T13:34:41Z</Expiration>", "");
        assert!(matches!(
            parse_assume_role(no_expiry.as_bytes()),
            Err(XmlError::MissingElement("Expiration"))
        ));
        let empty = "<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>";
        assert!(matches!(
            parse_assume_role(empty.as_bytes()),
            Err(XmlError::MissingElement("Credentials"))
        ));
        assert!(parse_assume_role(&OK.as_bytes()[..200]).is_err());
    }
}
