//! Entry points for the fuzz targets (feature `fuzzing`): the providers' parsers of files and
//! answers, on arbitrary input.

use super::metadata_http::{JsonCredentials, json_error_detail, server_text};

/// The shared `config` and `credentials` files (INI), merged and read as the providers do.
pub(crate) fn shared_files(config: &str, credentials: &str) {
    super::profile::fuzz_shared_files(config, credentials);
}

/// Every JSON answer a provider reads: `credential_process` output, the container and
/// instance-metadata credentials document, their JSON error bodies, and the instance-metadata
/// role listing. A parsed document must never yield credentials with an empty key or secret.
pub(crate) fn credentials_json(data: &[u8]) {
    super::profile::fuzz_process_output(data);
    if let Ok(doc) = JsonCredentials::parse("fuzz", data) {
        let _ = doc.code.as_deref().map(server_text);
        let _ = doc.message.as_deref().map(server_text);
        if let Ok(creds) = doc.into_credentials("fuzz") {
            assert!(!creds.access_key_id().is_empty());
            assert!(!creds.secret_access_key().is_empty());
        }
    }
    let _ = json_error_detail(data);
    if let Ok(role) = super::imds::first_role(data) {
        assert!(!role.is_empty() && !role.contains(['/', '?', '#', '%']));
    }
}
