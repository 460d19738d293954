//! `ProfileProvider` through the public API, with explicit file paths (tests never set the
//! process environment; the detailed cases are unit tests in `src/credentials/profile/`).

#![allow(clippy::unwrap_used)]

use async_s3::credentials::ProfileProvider;
use async_s3::{ErrorKind, ProvideCredentials};

const SECRET: &str = "SECRETCANARYpublic";

fn files() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    let config = dir.path().join("config");
    std::fs::write(
        &credentials,
        format!(
            "# keys\n[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = {SECRET}\n\
             aws_session_token = TOKENDEV\n[half]\naws_secret_access_key = {SECRET}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        &config,
        "[profile dev]\nregion = eu-west-1\n[profile chained]\nsource_profile = dev\n",
    )
    .unwrap();
    (dir, credentials, config)
}

#[tokio::test]
async fn reads_a_profile_from_explicit_files() {
    let (_dir, credentials, config) = files();
    for profile in ["dev", "chained"] {
        let provider = ProfileProvider::new()
            .profile(profile)
            .credentials_file(&credentials)
            .config_file(&config);
        assert_eq!(provider.profile_name(), profile);
        let creds = provider.provide_credentials().await.unwrap();
        assert_eq!(creds.access_key_id(), "AKIDDEV");
        assert_eq!(creds.secret_access_key(), SECRET);
        assert_eq!(creds.session_token(), Some("TOKENDEV"));
    }
}

#[tokio::test]
async fn errors_and_debug_never_show_a_secret() {
    let (_dir, credentials, config) = files();
    let provider = ProfileProvider::new()
        .profile("half")
        .credentials_file(&credentials)
        .config_file(&config);
    let debug = format!("{provider:?}");
    assert!(debug.contains("\"half\""), "{debug}");
    assert!(!debug.contains(SECRET), "{debug}");

    let e = provider.provide_credentials().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credentials);
    let text = format!("{e} {e:?}");
    assert!(text.contains("profile \"half\": "), "{text}");
    assert!(!text.contains(SECRET), "{text}");

    let e = ProfileProvider::new()
        .profile("absent")
        .credentials_file(&credentials)
        .config_file(&config)
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("profile \"absent\": the profile is not in the shared files"),
        "{e}"
    );
    assert!(!format!("{e:?}").contains(SECRET));
}
