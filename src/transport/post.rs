//! The signing half of a presigned browser POST: credentials, the corrected time, the bucket
//! URL, and the signature over the policy the caller writes for them. Nothing is sent.

use super::Transport;
use crate::error::Result;
use crate::signing::{AmzDate, credential_scope};
use std::time::SystemTime;

/// What a POST policy is written from: when, by whom, where to. `Debug` hides the session
/// token.
pub(crate) struct PostScope {
    /// The bucket's URL, the form's `action`.
    pub(crate) url: String,
    /// The corrected time the policy is signed at.
    pub(crate) now: SystemTime,
    /// `x-amz-date`.
    pub(crate) amz_date: String,
    /// `x-amz-credential`: access key id and scope.
    pub(crate) credential: String,
    /// `x-amz-security-token`, for temporary credentials.
    pub(crate) session_token: Option<String>,
}

impl std::fmt::Debug for PostScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostScope")
            .field("url", &self.url)
            .field("now", &self.now)
            .field("amz_date", &self.amz_date)
            .field("credential", &self.credential)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

impl Transport {
    /// Asks for credentials, hands `policy` the scope to write its document for (it returns
    /// the base64 of the document), and signs that base64 text as SigV4 POST requires.
    /// Returns the scope and the signature.
    ///
    /// # Errors
    ///
    /// `Credentials` when none can be had; whatever `policy` returns.
    pub(crate) async fn sign_post_policy(
        &self,
        bucket: &str,
        policy: impl FnOnce(&PostScope) -> Result<String>,
    ) -> Result<(PostScope, String, String)> {
        let creds = self.settings.credentials.provide_credentials().await?;
        let now = self.now();
        let amz_date = AmzDate::new(now);
        let scope = credential_scope(&amz_date, &self.settings.region, "s3");
        let post = PostScope {
            url: self.url(&self.target(Some(bucket), None), ""),
            now,
            amz_date: amz_date.as_str().to_owned(),
            credential: format!("{}/{scope}", creds.access_key_id()),
            session_token: creds.session_token().map(str::to_owned),
        };
        let encoded = policy(&post)?;
        let signature = self.signer.sign_post_policy(&creds, now, &encoded);
        Ok((post, encoded, signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_session_token() {
        let scope = PostScope {
            url: "https://b.s3.amazonaws.com/".into(),
            now: std::time::UNIX_EPOCH,
            amz_date: "19700101T000000Z".into(),
            credential: "AKID/19700101/us-east-1/s3/aws4_request".into(),
            session_token: Some("token-canary".into()),
        };
        let shown = format!("{scope:?}");
        assert!(!shown.contains("token-canary"), "{shown}");
        assert!(
            shown.contains("redacted") && shown.contains("AKID/"),
            "{shown}"
        );
    }
}
