//! Unit tests of the STS AssumeRole pieces: endpoint rules, parameter limits, the form body.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use super::*;
use crate::ErrorKind;
use crate::credentials::env::MapEnv;

#[test]
fn endpoints_are_regional_by_default() {
    let e = sts_endpoint(Some("eu-west-1"), true, None, "t").unwrap();
    assert_eq!(e.url, "https://sts.eu-west-1.amazonaws.com/");
    assert_eq!(e.signing_region, "eu-west-1");
    let e = sts_endpoint(None, true, None, "t").unwrap();
    assert_eq!(e.url, "https://sts.us-east-1.amazonaws.com/");
    let e = sts_endpoint(Some("cn-north-1"), true, None, "t").unwrap();
    assert_eq!(e.url, "https://sts.cn-north-1.amazonaws.com.cn/");
    let e = sts_endpoint(Some("aws-global"), true, None, "t").unwrap();
    assert_eq!(e.url, "https://sts.amazonaws.com/");
    assert_eq!(e.signing_region, "us-east-1");
}

#[test]
fn legacy_mode_sends_legacy_regions_to_the_global_endpoint() {
    let e = sts_endpoint(Some("eu-west-1"), false, None, "t").unwrap();
    assert_eq!(
        e,
        StsEndpoint {
            url: "https://sts.amazonaws.com/".into(),
            signing_region: "us-east-1".into()
        }
    );
    // A region opened later has no global fallback.
    let e = sts_endpoint(Some("af-south-1"), false, None, "t").unwrap();
    assert_eq!(e.url, "https://sts.af-south-1.amazonaws.com/");
    assert_eq!(e.signing_region, "af-south-1");
}

#[test]
fn overrides_and_bad_values() {
    let e = sts_endpoint(
        Some("eu-west-1"),
        true,
        Some("http://127.0.0.1:9/sts/"),
        "t",
    )
    .unwrap();
    assert_eq!(e.url, "http://127.0.0.1:9/sts/");
    assert_eq!(e.signing_region, "eu-west-1");
    for bad in ["http://sts.example/", "sts.example", "ftp://127.0.0.1/"] {
        let err = sts_endpoint(None, true, Some(bad), "who").unwrap_err();
        assert!(err.to_string().contains("who: the STS endpoint"), "{err}");
    }
    assert!(sts_endpoint(Some("evil.com/x"), true, None, "t").is_err());
}

#[test]
fn parameters_outside_the_limits_are_invalid_input() {
    let ok = RoleRequest {
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        ..RoleRequest::default()
    };
    ok.validate("t").unwrap();
    let cases = [
        RoleRequest {
            role_arn: "role/r".into(),
            ..ok.clone()
        },
        RoleRequest {
            session_name: Some("a".into()),
            ..ok.clone()
        },
        RoleRequest {
            session_name: Some("has space".into()),
            ..ok.clone()
        },
        RoleRequest {
            external_id: Some("x".into()),
            ..ok.clone()
        },
        RoleRequest {
            duration_seconds: Some(899),
            ..ok.clone()
        },
        RoleRequest {
            duration_seconds: Some(43_201),
            ..ok
        },
    ];
    for case in cases {
        let e = case.validate("who").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("who: "), "{e}");
    }
}

#[test]
fn the_form_body_encodes_every_parameter() {
    let r = RoleRequest {
        role_arn: " arn:aws:iam::123456789012:role/path/r ".into(),
        session_name: Some("me@example.com".into()),
        external_id: Some("a:b/c".into()),
        duration_seconds: Some(3600),
    };
    assert_eq!(
        r.form(UNIX_EPOCH),
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fpath%2Fr\
         &RoleSessionName=me%40example.com&DurationSeconds=3600&ExternalId=a%3Ab%2Fc"
    );
    let r = RoleRequest {
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        ..RoleRequest::default()
    };
    assert!(
        r.form(UNIX_EPOCH).contains("&RoleSessionName=async-s3-"),
        "{}",
        r.form(UNIX_EPOCH)
    );
}

#[tokio::test]
async fn the_region_comes_from_the_environment_when_not_set() {
    // An invalid region from the environment is refused before anything is sent, which shows
    // the provider read it.
    let p = AssumeRoleProvider::new(
        "arn:aws:iam::123456789012:role/r",
        Credentials::new("AKID", "S"),
    )
    .with_env(Arc::new(MapEnv::default().with("AWS_REGION", "Bad Region")));
    let e = p.provide_credentials().await.unwrap_err();
    assert!(
        e.to_string()
            .contains("\"Bad Region\" is not a valid region"),
        "{e}"
    );
    // `region` beats the environment (the loopback endpoint nobody listens on keeps the
    // request on this machine).
    let p = AssumeRoleProvider::new(
        "arn:aws:iam::123456789012:role/r",
        Credentials::new("AKID", "S"),
    )
    .with_env(Arc::new(MapEnv::default().with("AWS_REGION", "Bad Region")))
    .region("eu-west-1")
    .sts_endpoint("http://127.0.0.1:9/")
    .timeout(Duration::from_secs(2));
    let e = p.provide_credentials().await.unwrap_err();
    assert!(e.to_string().contains("no answer from STS"), "{e}");
}

/// An environment or a profile as a lookup of fixed pairs.
fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// Review of issue 12: where each STS setting comes from, as a pure function: the endpoint
/// URL (a provider's `sts_endpoint` > `AWS_ENDPOINT_URL_STS`), the region (a provider's
/// `region` > `AWS_REGION` > `AWS_DEFAULT_REGION` > the profile's `region` > us-east-1),
/// regional or legacy (a provider's setting > `AWS_STS_REGIONAL_ENDPOINTS` > the profile's
/// `sts_regional_endpoints` > regional).
#[test]
fn each_sts_setting_comes_from_the_most_specific_place() {
    const GLOBAL: &str = "https://sts.amazonaws.com/";
    type Pairs = &'static [(&'static str, &'static str)];
    let none: Pairs = &[];
    let legacy_profile: Pairs = &[
        ("region", "eu-west-1"),
        ("sts_regional_endpoints", "legacy"),
    ];
    let cases: [(Pairs, Pairs, StsOverrides<'_>, &str, &str); 11] = [
        (
            none,
            none,
            StsOverrides::default(),
            "https://sts.us-east-1.amazonaws.com/",
            "us-east-1",
        ),
        (
            none,
            legacy_profile,
            StsOverrides::default(),
            GLOBAL,
            "us-east-1",
        ),
        (
            &[("AWS_STS_REGIONAL_ENDPOINTS", "regional")],
            legacy_profile,
            StsOverrides::default(),
            "https://sts.eu-west-1.amazonaws.com/",
            "eu-west-1",
        ),
        (
            &[("AWS_STS_REGIONAL_ENDPOINTS", "LEGACY")],
            &[
                ("region", "eu-west-1"),
                ("sts_regional_endpoints", "regional"),
            ],
            StsOverrides::default(),
            GLOBAL,
            "us-east-1",
        ),
        (
            &[("AWS_STS_REGIONAL_ENDPOINTS", "legacy")],
            &[("region", "af-south-1")],
            StsOverrides::default(),
            "https://sts.af-south-1.amazonaws.com/",
            "af-south-1",
        ),
        (
            &[
                ("AWS_REGION", "ap-south-1"),
                ("AWS_DEFAULT_REGION", "us-west-2"),
            ],
            &[("region", "eu-west-1")],
            StsOverrides::default(),
            "https://sts.ap-south-1.amazonaws.com/",
            "ap-south-1",
        ),
        (
            &[("AWS_DEFAULT_REGION", "us-west-2")],
            &[("region", "eu-west-1")],
            StsOverrides::default(),
            "https://sts.us-west-2.amazonaws.com/",
            "us-west-2",
        ),
        (
            &[("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1/env/")],
            &[("region", "eu-west-1")],
            StsOverrides::default(),
            "http://127.0.0.1:1/env/",
            "eu-west-1",
        ),
        (
            &[
                ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1/env/"),
                ("AWS_REGION", "eu-west-2"),
            ],
            none,
            StsOverrides {
                url: Some("http://127.0.0.1:2/provider/"),
                region: Some("ca-central-1"),
                regional: None,
            },
            "http://127.0.0.1:2/provider/",
            "ca-central-1",
        ),
        (
            &[("AWS_STS_REGIONAL_ENDPOINTS", "regional")],
            &[("region", "eu-west-1")],
            StsOverrides {
                regional: Some(false),
                ..StsOverrides::default()
            },
            GLOBAL,
            "us-east-1",
        ),
        (
            &[("AWS_STS_REGIONAL_ENDPOINTS", "legacy")],
            &[("region", "eu-west-1")],
            StsOverrides {
                regional: Some(true),
                ..StsOverrides::default()
            },
            "https://sts.eu-west-1.amazonaws.com/",
            "eu-west-1",
        ),
    ];
    for (i, (env, profile, overrides, url, region)) in cases.into_iter().enumerate() {
        let e = configured_endpoint(&lookup(env), &lookup(profile), &overrides, "t").unwrap();
        assert_eq!(
            (e.url.as_str(), e.signing_region.as_str()),
            (url, region),
            "case {i}"
        );
    }
    let e = configured_endpoint(
        &lookup(none),
        &lookup(&[("sts_regional_endpoints", "sometimes")]),
        &StsOverrides::default(),
        "who",
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string()
            .contains("who: sts_regional_endpoints \"sometimes\" is neither regional nor legacy"),
        "{e}"
    );
}

/// Review of issue 12: `RoleRequest`'s Debug does not show the external id.
#[test]
fn the_role_request_debug_hides_the_external_id() {
    let r = RoleRequest {
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        external_id: Some("CANARY-external".into()),
        ..RoleRequest::default()
    };
    let text = format!("{r:?}");
    assert!(!text.contains("CANARY"), "{text}");
    assert!(text.contains("arn:aws:iam::123456789012:role/r"), "{text}");
}

/// Review of issue 12: the default session name comes from the provider's clock.
#[test]
fn the_default_session_name_uses_the_given_time() {
    let r = RoleRequest {
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        ..RoleRequest::default()
    };
    let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert!(
        r.form(at).ends_with("&RoleSessionName=async-s3-1700000000"),
        "{}",
        r.form(at)
    );
}
