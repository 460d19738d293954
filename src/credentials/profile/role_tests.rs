//! Profiles with `role_arn` against a local server playing STS: chains, `credential_source`,
//! the region and endpoint rules, and the refusals that send nothing.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use super::super::ProfileProvider;
use crate::ErrorKind;
use crate::credentials::ProvideCredentials;
use crate::credentials::env::MapEnv;
use crate::credentials::test_server::{Request, TestServer};
use std::sync::Arc;

const BASE_SECRET: &str = "CANARY-base-secret";

fn answer(n: u32) -> String {
    format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
         <Credentials><AccessKeyId>ASIAROLE{n}</AccessKeyId>\
         <SecretAccessKey>CANARY-role-secret-{n}</SecretAccessKey>\
         <SessionToken>CANARY-role-token-{n}</SessionToken>\
         <Expiration>2030-01-02T03:04:05Z</Expiration></Credentials></AssumeRoleResult>\
         <ResponseMetadata><RequestId>rid-{n}</RequestId></ResponseMetadata></AssumeRoleResponse>"
    )
}

/// Answers the n-th request with role credentials number n + 1.
async fn sts() -> TestServer {
    TestServer::start(|_, i| (200, answer(u32::try_from(i).unwrap() + 1))).await
}

/// A config file in a temporary directory and an environment naming it (and no home).
fn files(config: &str) -> (tempfile::TempDir, MapEnv) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, config).unwrap();
    let env = MapEnv::default()
        .with("AWS_CONFIG_FILE", path.display().to_string())
        .with(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("none").display().to_string(),
        );
    (dir, env)
}

fn form(req: &Request) -> String {
    String::from_utf8(req.body.clone()).unwrap()
}

/// `Credential=<key>/<date>/<region>/sts/aws4_request`: the key and the region.
fn scope(req: &Request) -> (String, String) {
    let auth = req.header("authorization").unwrap();
    let cred = auth
        .split("Credential=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let parts: Vec<&str> = cred.split('/').collect();
    assert_eq!(parts[3..], ["sts", "aws4_request"], "{auth}");
    (parts[0].to_owned(), parts[2].to_owned())
}

const CHAIN: &str = "[profile prod]\nrole_arn = arn:aws:iam::111111111111:role/prod\n\
     source_profile = mid\nrole_session_name = prod-session\nexternal_id = ext-prod\n\
     duration_seconds = 1800\nregion = eu-west-1\n\
     [profile mid]\nrole_arn = arn:aws:iam::222222222222:role/mid\nsource_profile = base\n\
     [profile base]\naws_access_key_id = AKIDBASE\n";

fn chain_config() -> String {
    format!("{CHAIN}aws_secret_access_key = {BASE_SECRET}\n")
}

/// Issue 12: profile chain source_profile -> role -> role.
#[tokio::test]
async fn a_chain_of_roles_assumes_each_with_the_previous_credentials() {
    let server = sts().await;
    let (_dir, env) = files(&chain_config());
    let p = ProfileProvider::with_env(Arc::new(env))
        .profile("prod")
        .sts_endpoint(server.url());
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAROLE2");
    assert_eq!(c.session_token(), Some("CANARY-role-token-2"));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    // The innermost role first, signed with the base profile's keys, no token.
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].target.as_str()),
        ("POST", "/")
    );
    assert_eq!(scope(&reqs[0]), ("AKIDBASE".into(), "eu-west-1".into()));
    assert_eq!(reqs[0].header("x-amz-security-token"), None);
    let body = form(&reqs[0]);
    assert!(
        body.starts_with(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Fmid&RoleSessionName=async-s3-"
        ),
        "{body}"
    );
    // Then the profile's own role, signed with the first role's credentials and token.
    assert_eq!(scope(&reqs[1]), ("ASIAROLE1".into(), "eu-west-1".into()));
    assert_eq!(
        reqs[1].header("x-amz-security-token"),
        Some("CANARY-role-token-1")
    );
    assert_eq!(
        form(&reqs[1]),
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fprod\
         &RoleSessionName=prod-session&DurationSeconds=1800&ExternalId=ext-prod"
    );
    assert_eq!(
        reqs[1].header("content-type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );

    let d = p.describe().await.unwrap();
    assert_eq!(
        d,
        "profile \"prod\": assume-role arn:aws:iam::111111111111:role/prod via profile \"prod\" \
         <- assume-role arn:aws:iam::222222222222:role/mid via profile \"mid\" \
         <- static keys of profile \"base\""
    );
    assert_eq!(server.requests().len(), 2, "describe sends nothing");
}

/// Issue 12: credential_source.
#[tokio::test]
async fn credential_source_environment_and_the_region_rules() {
    let server = sts().await;
    let (_dir, env) = files(
        "[default]\nrole_arn = arn:aws:iam::333333333333:role/ci\n\
         credential_source = Environment\nregion = eu-west-1\n",
    );
    let env = env
        .with("AWS_ACCESS_KEY_ID", "AKIDENV")
        .with("AWS_SECRET_ACCESS_KEY", "CANARY-env-secret")
        .with("AWS_SESSION_TOKEN", "CANARY-env-token")
        .with("AWS_REGION", "ap-south-1")
        .with("AWS_ENDPOINT_URL_STS", server.url());
    let p = ProfileProvider::with_env(Arc::new(env.clone()));
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAROLE1");
    let reqs = server.requests();
    // AWS_REGION beats the profile's region; the environment's token is sent.
    assert_eq!(scope(&reqs[0]), ("AKIDENV".into(), "ap-south-1".into()));
    assert_eq!(
        reqs[0].header("x-amz-security-token"),
        Some("CANARY-env-token")
    );
    // Without AWS_REGION the profile's region is used.
    let mut env = env;
    env.0.remove("AWS_REGION");
    ProfileProvider::with_env(Arc::new(env.clone()))
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(scope(&server.requests()[1]).1, "eu-west-1");
    // Without the keys in the environment: a clear error, nothing sent.
    env.0.remove("AWS_SECRET_ACCESS_KEY");
    let e = ProfileProvider::with_env(Arc::new(env))
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("credential_source Environment of profile \"default\" gave no credentials"),
        "{e}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_profile_with_keys_may_be_its_own_source() {
    let server = sts().await;
    let (_dir, env) = files(&format!(
        "[profile me]\nrole_arn = arn:aws:iam::444444444444:role/self\nsource_profile = me\n\
         aws_access_key_id = AKIDSELF\naws_secret_access_key = {BASE_SECRET}\n"
    ));
    let p = ProfileProvider::with_env(Arc::new(env))
        .profile("me")
        .sts_endpoint(server.url());
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "ASIAROLE1"
    );
    assert_eq!(scope(&server.requests()[0]).0, "AKIDSELF");
}

#[tokio::test]
async fn unusable_role_profiles_are_refused_before_anything_is_sent() {
    let server = sts().await;
    let role = "role_arn = arn:aws:iam::1:role/r\n";
    let (_dir, env) = files(&format!(
        "[profile loop-a]\n{role}source_profile = loop-b\n\
         [profile loop-b]\n{role}source_profile = loop-a\n\
         [profile mfa]\n{role}source_profile = keys\nmfa_serial = arn:aws:iam::1:mfa/me\n\
         [profile both]\n{role}source_profile = keys\ncredential_source = Environment\n\
         [profile neither]\n{role}\
         [profile odd-source]\n{role}credential_source = Elsewhere\n\
         [profile bad-duration]\n{role}source_profile = keys\nduration_seconds = 1h\n\
         [profile bad-mode]\n{role}source_profile = keys\nsts_regional_endpoints = sometimes\n\
         [profile keys]\naws_access_key_id = AKID\naws_secret_access_key = {BASE_SECRET}\n"
    ));
    let cases = [
        (
            "loop-a",
            "source_profile cycle: loop-a -> loop-b -> loop-a",
            ErrorKind::Credentials,
        ),
        (
            "mfa",
            "cannot prompt for an MFA code",
            ErrorKind::Credentials,
        ),
        (
            "both",
            "sets both source_profile and credential_source",
            ErrorKind::Credentials,
        ),
        (
            "neither",
            "names no source_profile, credential_source or web_identity_token_file",
            ErrorKind::Credentials,
        ),
        (
            "odd-source",
            "credential_source \"Elsewhere\"",
            ErrorKind::Credentials,
        ),
        (
            "bad-duration",
            "duration_seconds \"1h\"",
            ErrorKind::InvalidInput,
        ),
        (
            "bad-mode",
            "sts_regional_endpoints \"sometimes\"",
            ErrorKind::InvalidInput,
        ),
    ];
    for (profile, want, kind) in cases {
        let e = ProfileProvider::with_env(Arc::new(env.clone()))
            .profile(profile)
            .sts_endpoint(server.url())
            .provide_credentials()
            .await
            .unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(text.contains(&format!("profile {profile:?}: ")), "{text}");
        assert!(text.contains(want), "{profile}: {text}");
        assert_eq!(e.kind(), kind, "{text}");
        assert!(!e.is_not_configured(), "{text}");
        assert!(!text.contains("CANARY"), "{text}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn sts_refusals_keep_their_code_and_request_id() {
    let server = TestServer::start(|_, _| {
        (
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
             <Message>not authorized to perform sts:AssumeRole</Message></Error>\
             <RequestId>rid-denied</RequestId></ErrorResponse>"
                .to_owned(),
        )
    })
    .await;
    let (_dir, env) = files(&chain_config());
    let e = ProfileProvider::with_env(Arc::new(env))
        .profile("prod")
        .sts_endpoint(server.url())
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credentials);
    assert_eq!(e.s3_code(), Some("AccessDenied"));
    assert_eq!(e.request_id(), Some("rid-denied"));
    assert_eq!(e.status(), Some(403));
    let text = e.to_string();
    assert!(
        text.contains(
            "profile \"prod\" (role of source profile \"mid\"): STS refused AssumeRole of \
             arn:aws:iam::222222222222:role/mid;"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(
            "[request id rid-denied] (403 AccessDenied): not authorized to perform sts:AssumeRole"
        ),
        "{text}"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "the chain stops at the first refusal"
    );
}

/// A role whose source is the container endpoint, and a role whose source profile uses IAM
/// Identity Center: the base credentials come from there, then STS.
#[tokio::test]
async fn container_and_sso_sources_feed_the_role() {
    let server = TestServer::start(|r, _| {
        if r.target.starts_with("/container") {
            (
                200,
                r#"{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"CANARY-c","Token":"CANARY-ct","Expiration":"2030-01-02T03:04:05Z"}"#
                    .to_owned(),
            )
        } else if r.target.starts_with("/federation/credentials") {
            (
                200,
                r#"{"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"CANARY-s","sessionToken":"CANARY-st","expiration":1893553445000}}"#
                    .to_owned(),
            )
        } else {
            (200, answer(9))
        }
    })
    .await;
    let (dir, env) = files(
        "[profile from-container]\nrole_arn = arn:aws:iam::555555555555:role/c\n\
         credential_source = EcsContainer\n\
         [profile from-sso]\nrole_arn = arn:aws:iam::555555555555:role/s\nsource_profile = sso\n\
         [profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = R\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    );
    let cache = dir.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    // SHA-1 of "corp".
    std::fs::write(
        cache.join("ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        r#"{"accessToken":"CANARY-sso-access","expiresAt":"2099-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let env = env
        .with("HOME", dir.path().display().to_string())
        .with(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{}/container", server.url()),
        )
        .with("AWS_ENDPOINT_URL_SSO", server.url())
        .with("AWS_ENDPOINT_URL_STS", server.url());
    for (profile, source_key) in [("from-container", "ASIACONTAINER"), ("from-sso", "ASIASSO")] {
        let p = ProfileProvider::with_env(Arc::new(env.clone())).profile(profile);
        assert_eq!(
            p.provide_credentials().await.unwrap().access_key_id(),
            "ASIAROLE9"
        );
        let reqs = server.requests();
        let sts = reqs.last().unwrap();
        assert_eq!(scope(sts).0, source_key, "{profile}");
        assert_eq!(sts.method, "POST");
    }
    assert_eq!(server.requests().len(), 4);
    let d = ProfileProvider::with_env(Arc::new(env))
        .profile("from-sso")
        .describe()
        .await
        .unwrap();
    assert_eq!(
        d,
        "profile \"from-sso\": assume-role arn:aws:iam::555555555555:role/s via profile \
         \"from-sso\" <- sso role R in account 111122223333 (sso-session \"corp\") of profile \"sso\""
    );
}

/// Review of issue 12: `role_arn` with `web_identity_token_file` (and no source) assumes the
/// role with the token through `AssumeRoleWithWebIdentity`, unsigned; a role on top of it is
/// then assumed with those credentials.
#[tokio::test]
async fn a_web_identity_profile_is_a_base() {
    let server = TestServer::start(|r: &Request, _| {
        if String::from_utf8_lossy(&r.body).starts_with("Action=AssumeRoleWithWebIdentity") {
            let body = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>\
                 <Credentials><AccessKeyId>ASIAWEB</AccessKeyId>\
                 <SecretAccessKey>CANARY-web-secret</SecretAccessKey>\
                 <SessionToken>CANARY-web-token</SessionToken>\
                 <Expiration>2030-01-02T03:04:05Z</Expiration></Credentials>\
                 </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
            (200, body.to_owned())
        } else {
            (200, answer(2))
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "CANARY.jwt\n").unwrap();
    let (_dir, env) = files(&format!(
        "[profile web]\nrole_arn = arn:aws:iam::444444444444:role/web\n\
         web_identity_token_file = {}\nrole_session_name = web-session\nregion = eu-west-1\n\
         [profile prod]\nrole_arn = arn:aws:iam::111111111111:role/prod\nsource_profile = web\n",
        token.display()
    ));
    let env = env.with("AWS_ENDPOINT_URL_STS", server.url());
    let web = ProfileProvider::with_env(Arc::new(env.clone())).profile("web");
    let c = web.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAWEB");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        form(&reqs[0]),
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15\
         &RoleArn=arn%3Aaws%3Aiam%3A%3A444444444444%3Arole%2Fweb&RoleSessionName=web-session\
         &WebIdentityToken=CANARY.jwt"
    );
    assert_eq!(reqs[0].header("authorization"), None);
    assert_eq!(
        web.describe().await.unwrap(),
        format!(
            "profile \"web\": web identity role arn:aws:iam::444444444444:role/web \
             (token file {}) of profile \"web\"",
            token.display()
        )
    );

    let prod = ProfileProvider::with_env(Arc::new(env)).profile("prod");
    let c = prod.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAROLE2");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert!(form(&reqs[1]).starts_with("Action=AssumeRoleWithWebIdentity&"));
    assert_eq!(scope(&reqs[2]).0, "ASIAWEB");
    assert_eq!(
        reqs[2].header("x-amz-security-token"),
        Some("CANARY-web-token")
    );
    assert!(form(&reqs[2]).contains("RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fprod"));
    let d = format!("{web:?} {prod:?}");
    assert!(!d.contains("CANARY"), "{d}");
}
