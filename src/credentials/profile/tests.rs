//! `ProfileProvider` against files in a temporary directory, with an injected environment.

use super::*;
use crate::credentials::env::MapEnv;
use crate::error::ErrorKind;
use std::time::SystemTime;
use tempfile::TempDir;

/// In every secret the tests write; must never appear in an error or a `Debug`.
const CANARY: &str = "SECRETCANARY";

fn secret(n: u32) -> String {
    format!("{CANARY}{n}")
}

/// A directory with the two files (empty text: no file) and an env pointing at them.
struct Setup {
    dir: TempDir,
    env: MapEnv,
}

fn setup(config: &str, credentials: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config");
    let credentials_path = dir.path().join("credentials");
    if !config.is_empty() {
        std::fs::write(&config_path, config).unwrap();
    }
    if !credentials.is_empty() {
        std::fs::write(&credentials_path, credentials).unwrap();
    }
    let env = MapEnv::default()
        .with("AWS_CONFIG_FILE", config_path.display().to_string())
        .with(
            "AWS_SHARED_CREDENTIALS_FILE",
            credentials_path.display().to_string(),
        );
    Setup { dir, env }
}

impl Setup {
    fn with(mut self, key: &str, value: &str) -> Self {
        self.env = self.env.with(key, value);
        self
    }

    fn provider(&self) -> ProfileProvider {
        ProfileProvider::with_env(Arc::new(self.env.clone()))
    }

    async fn get(&self, profile: &str) -> Result<Credentials> {
        self.provider().profile(profile).provide_credentials().await
    }

    /// The error for `profile`, checked for kind, prefix and secrets; its Display.
    async fn error(&self, profile: &str) -> String {
        let e = self.get(profile).await.expect_err("expected an error");
        assert_eq!(e.kind(), ErrorKind::Credentials, "{e}");
        let text = format!("{e} | {e:?}");
        assert!(!text.contains(CANARY), "secret leaked: {text}");
        assert!(
            e.to_string()
                .starts_with(&format!("credentials error: profile {profile:?}: ")),
            "{e}"
        );
        e.to_string()
    }
}

fn static_profile(header: &str, n: u32) -> String {
    format!(
        "{header}\naws_access_key_id = AKID{n}\naws_secret_access_key = {}\n",
        secret(n)
    )
}

#[tokio::test]
async fn static_keys_from_the_credentials_file() {
    let s = setup(
        "",
        &format!(
            "{}{}aws_session_token = TOKEN2\n",
            static_profile("[default]", 1),
            static_profile("[dev]", 2)
        ),
    );
    let c = s.provider().provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "AKID1");
    assert_eq!(c.secret_access_key(), secret(1));
    assert_eq!(c.session_token(), None);
    assert_eq!(c.expiry(), None);
    let c = s.get("dev").await.unwrap();
    assert_eq!(c.access_key_id(), "AKID2");
    assert_eq!(c.session_token(), Some("TOKEN2"));
}

#[tokio::test]
async fn static_keys_from_the_config_file_need_the_profile_prefix() {
    let s = setup(
        &format!(
            "{}{}",
            static_profile("[profile dev]", 1),
            static_profile("[prod]", 2)
        ),
        "",
    );
    assert_eq!(s.get("dev").await.unwrap().access_key_id(), "AKID1");
    let m = s.error("prod").await;
    assert!(m.contains("is not in the shared files"), "{m}");
}

#[tokio::test]
async fn aws_profile_picks_the_profile_and_profile_overrides_it() {
    let s = setup(
        "",
        &format!(
            "{}{}",
            static_profile("[default]", 1),
            static_profile("[dev]", 2)
        ),
    )
    .with("AWS_PROFILE", "dev");
    let p = s.provider();
    assert_eq!(p.profile_name(), "dev");
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "AKID2"
    );
    let p = s.provider().profile("default");
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "AKID1"
    );
}

#[tokio::test]
async fn default_paths_under_home_and_tilde_expansion() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        static_profile("[default]", 1),
    )
    .unwrap();
    std::fs::write(
        home.path().join("elsewhere"),
        static_profile("[default]", 2),
    )
    .unwrap();
    let env = MapEnv::default().with("HOME", home.path().display().to_string());
    let p = ProfileProvider::with_env(Arc::new(env.clone()));
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "AKID1"
    );
    let env = env.with("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere");
    let p = ProfileProvider::with_env(Arc::new(env));
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "AKID2"
    );
}

#[tokio::test]
async fn explicit_paths_override_the_environment() {
    let s = setup("", &static_profile("[default]", 1));
    let other = s.dir.path().join("other");
    std::fs::write(&other, static_profile("[default]", 2)).unwrap();
    let p = s.provider().credentials_file(&other);
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "AKID2"
    );
    let p = s.provider().config_file(s.dir.path().join("missing"));
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "AKID1"
    );
}

#[tokio::test]
async fn credentials_file_overrides_config_file() {
    let s = setup(
        &static_profile("[profile dev]", 1),
        "[dev]\naws_secret_access_key = OTHER\n",
    );
    let c = s.get("dev").await.unwrap();
    assert_eq!(c.access_key_id(), "AKID1");
    assert_eq!(c.secret_access_key(), "OTHER");
}

#[tokio::test]
async fn comments_spaces_crlf_and_unknown_keys() {
    let text = format!(
        "# my keys\r\n; more\r\n\r\n[ dev ]  ; laptop\r\n   output = json\r\n\
         AWS_ACCESS_KEY_ID   =   AKID1  \r\naws_secret_access_key={}\r\n\
         s3 =\r\n    addressing_style = path\r\nmystery = 42\r\n",
        secret(1)
    );
    let s = setup("", &text);
    let c = s.get("dev").await.unwrap();
    assert_eq!(c.access_key_id(), "AKID1");
    assert_eq!(c.secret_access_key(), secret(1));
}

#[tokio::test]
async fn legacy_security_token_name() {
    let s = setup(
        "",
        &format!(
            "{}aws_security_token = OLD\n",
            static_profile("[default]", 1)
        ),
    );
    assert_eq!(s.get("default").await.unwrap().session_token(), Some("OLD"));
}

#[tokio::test]
async fn half_a_key_pair_is_an_error() {
    let s = setup(
        "",
        &format!(
            "[a]\naws_access_key_id = AKID\n[b]\naws_secret_access_key = {}\n",
            secret(1)
        ),
    );
    let m = s.error("a").await;
    assert!(
        m.contains("has aws_access_key_id but no aws_secret_access_key"),
        "{m}"
    );
    let m = s.error("b").await;
    assert!(
        m.contains("has aws_secret_access_key but no aws_access_key_id"),
        "{m}"
    );
}

#[tokio::test]
async fn source_profile_chain_ends_in_static_keys() {
    let s = setup(
        "[profile a]\nsource_profile = b\nregion = x\n[profile b]\nsource_profile = c\n",
        &static_profile("[c]", 3),
    );
    let c = s.get("a").await.unwrap();
    assert_eq!(c.access_key_id(), "AKID3");
    assert_eq!(c.secret_access_key(), secret(3));
}

#[tokio::test]
async fn source_profile_cycles_and_gaps_are_errors() {
    let s = setup(
        "[profile a]\nsource_profile = b\n[profile b]\nsource_profile = a\n\
         [profile self]\nsource_profile = self\n[profile gap]\nsource_profile = nowhere\n",
        &static_profile("[unrelated]", 1),
    );
    let m = s.error("a").await;
    assert!(m.contains("source_profile cycle: a -> b -> a"), "{m}");
    let m = s.error("self").await;
    assert!(m.contains("source_profile cycle: self -> self"), "{m}");
    let m = s.error("gap").await;
    assert!(
        m.contains("source profile \"nowhere\" is not in the shared files (through source_profile gap -> nowhere)"),
        "{m}"
    );
}

#[tokio::test]
async fn a_source_profile_with_keys_uses_them_despite_role_arn() {
    let s = setup(
        "",
        &format!(
            "[a]\nsource_profile = b\n{}role_arn = arn:aws:iam::1:role/r\n",
            static_profile("[b]", 2)
        ),
    );
    assert_eq!(s.get("a").await.unwrap().access_key_id(), "AKID2");
}

#[tokio::test]
async fn incomplete_sso_profiles_say_what_is_missing() {
    let s = setup(
        "[profile sso]\nsso_session = corp\nsso_account_id = 1\n\
         [sso-session corp]\nsso_start_url = https://x\n",
        "",
    );
    let m = s.error("sso").await;
    assert!(m.contains("uses IAM Identity Center (SSO)"), "{m}");
    assert!(m.contains("sso_region"), "{m}");
    let s = setup("[profile sso]\nsso_session = gone\n", "");
    let m = s.error("sso").await;
    assert!(
        m.contains("the [sso-session gone] section is missing"),
        "{m}"
    );
}

#[tokio::test]
async fn a_profile_without_credentials_says_what_it_needs() {
    let s = setup("[profile dev]\nregion = eu-west-1\n", "");
    let m = s.error("dev").await;
    assert!(
        m.contains("has no credentials: it needs aws_access_key_id and aws_secret_access_key, role_arn, source_profile or credential_process"),
        "{m}"
    );
    assert!(
        m.contains(&s.dir.path().join("config").display().to_string()),
        "{m}"
    );
}

#[tokio::test]
async fn missing_files_and_profiles_name_what_was_looked_for() {
    let s = setup("", "");
    let m = s.error("dev").await;
    assert!(m.contains("no shared credentials or config file"), "{m}");
    assert!(
        m.contains(&s.dir.path().join("credentials").display().to_string()),
        "{m}"
    );
    assert!(
        m.contains(&s.dir.path().join("config").display().to_string()),
        "{m}"
    );

    let p = ProfileProvider::with_env(Arc::new(MapEnv::default()));
    let e = p.provide_credentials().await.unwrap_err();
    assert!(
        e.to_string().contains(
            "no home directory, and neither AWS_SHARED_CREDENTIALS_FILE nor AWS_CONFIG_FILE \
             is set"
        ),
        "{e}"
    );

    let s = setup("", &static_profile("[default]", 1));
    let m = s.error("prod").await;
    assert!(m.contains("the profile is not in the shared files"), "{m}");
    assert!(
        m.contains(&s.dir.path().join("credentials").display().to_string()),
        "{m}"
    );
}

#[tokio::test]
async fn malformed_lines_are_reported_by_number_only() {
    let s = setup(
        "",
        &format!(
            "[dev]\naws_access_key_id {}\naws_secret_access_key = x\n",
            secret(1)
        ),
    );
    let m = s.error("dev").await;
    assert!(
        m.contains("(skipped malformed lines: credentials 2)"),
        "{m}"
    );
}

#[tokio::test]
async fn an_unreadable_file_is_a_credentials_error_with_its_cause() {
    let s = setup("", "");
    std::fs::create_dir(s.dir.path().join("credentials")).unwrap();
    let e = s.get("default").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credentials);
    assert!(e.to_string().contains("could not read"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn debug_shows_profile_and_paths_but_no_secret() {
    let s = setup("", &static_profile("[dev]", 1)).with("AWS_SECRET_ACCESS_KEY", &secret(9));
    let text = format!("{:?}", s.provider().profile("dev"));
    assert!(
        text.starts_with("ProfileProvider { profile: \"dev\""),
        "{text}"
    );
    assert!(text.contains("credentials"), "{text}");
    assert!(!text.contains(CANARY), "{text}");
}

#[test]
fn provider_future_is_send() {
    fn is_send<T: Send>(_: &T) {}
    let p = ProfileProvider::new();
    is_send(&p.provide_credentials());
    fn is_send_sync<T: Send + Sync + 'static>() {}
    is_send_sync::<ProfileProvider>();
}

#[cfg(unix)]
mod credential_process {
    use super::*;

    fn printf_json(json: &str) -> String {
        format!("printf '%s' '{json}'")
    }

    #[tokio::test]
    async fn success_with_expiry() {
        let json = format!(
            r#"{{"Version": 1, "AccessKeyId": "PAK", "SecretAccessKey": "{}", "SessionToken": "PTOK", "Expiration": "2031-05-06T07:08:09Z"}}"#,
            secret(1)
        );
        let s = setup(
            &format!(
                "[profile dev]\ncredential_process = {}\n",
                printf_json(&json)
            ),
            "",
        );
        let c = s.get("dev").await.unwrap();
        assert_eq!(c.access_key_id(), "PAK");
        assert_eq!(c.secret_access_key(), secret(1));
        assert_eq!(c.session_token(), Some("PTOK"));
        let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(1_935_817_689);
        assert_eq!(c.expiry(), Some(expected));
    }

    #[tokio::test]
    async fn static_keys_win_over_a_process() {
        let s = setup(
            "",
            &format!(
                "{}credential_process = exit 1\n",
                static_profile("[dev]", 1)
            ),
        );
        assert_eq!(s.get("dev").await.unwrap().access_key_id(), "AKID1");
    }

    #[tokio::test]
    async fn a_source_profile_may_use_a_process() {
        let json = r#"{"Version": 1, "AccessKeyId": "PAK", "SecretAccessKey": "S"}"#;
        let s = setup(
            &format!(
                "[profile a]\nsource_profile = b\n[profile b]\ncredential_process = {}\n",
                printf_json(json)
            ),
            "",
        );
        assert_eq!(s.get("a").await.unwrap().access_key_id(), "PAK");
    }

    #[tokio::test]
    async fn failure_bad_json_and_bad_version() {
        let config = format!(
            "[profile fails]\ncredential_process = echo {}; echo 'please log in' >&2; exit 2\n\
             [profile garbage]\ncredential_process = echo '{{\"SecretAccessKey\": \"{}\"'\n\
             [profile v2]\ncredential_process = {}\n",
            secret(1),
            secret(2),
            printf_json(&format!(
                r#"{{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "{}"}}"#,
                secret(3)
            )),
        );
        let s = setup(&config, "");
        let m = s.error("fails").await;
        assert!(
            m.contains("credential_process failed (exit status: 2): please log in"),
            "{m}"
        );
        let m = s.error("garbage").await;
        assert!(
            m.contains("credential_process output is not valid JSON"),
            "{m}"
        );
        let m = s.error("v2").await;
        assert!(m.contains("Version 2; only Version 1 is supported"), "{m}");
    }

    #[tokio::test]
    async fn a_hung_process_times_out() {
        let s = setup("[profile slow]\ncredential_process = sleep 30\n", "");
        let mut p = s.provider().profile("slow");
        p.process_timeout = Duration::from_millis(200);
        let e = p.provide_credentials().await.unwrap_err();
        assert!(e.to_string().contains("did not finish within"), "{e}");
    }
}
