//! The STS `AssumeRole` answer: `AssumeRoleResponse/AssumeRoleResult/Credentials`. Errors come
//! as the same query-protocol `<ErrorResponse>` as the other STS calls
//! ([`parse_sts_error`](super::parse_sts_error)).

use super::error::XmlError;
use super::reader::XmlReader;
use super::sts::{StsCredentials, read_credentials};

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
                found = Some(read_credentials(&mut r, &creds)?);
            }
        }
    }
    r.finish()?;
    found.ok_or(XmlError::MissingElement("Credentials"))
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

    #[test]
    fn an_expiration_past_year_9999_is_refused() {
        let over = OK.replace("2019-11-09T13:34:41Z", "9999-12-31T23:59:59-05:00");
        assert!(matches!(
            parse_assume_role(over.as_bytes()),
            Err(XmlError::InvalidValue("Expiration"))
        ));
    }
}
