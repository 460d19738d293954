//! Test plan row S2: our SigV4 signer against the `aws-sigv4` crate, used as an oracle.
//!
//! Random methods, keys, query parameters, headers, session tokens, times and payloads are
//! signed by both; the `authorization` header (or, presigning, the query string) must agree
//! exactly. aws-sigv4 is configured the S3 way: the path is signed as sent (encoded once),
//! never normalized, and `x-amz-content-sha256` is signed. So that the oracle checks our
//! encoding too, it never sees it: it gets the raw key and query, encoded by the AWS SDK's
//! own encoders (`aws_smithy_http::label`, greedy as for S3's `{Key+}`, and `query`).

use async_s3::Credentials;
use async_s3::signing::{
    AmzDate, CanonicalQuery, PayloadHash, SignableRequest, Signer, canonical_request, encode_path,
    encode_query_component,
};
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignatureLocation,
    SigningInstructions, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_http::label::{self, EncodingStrategy};
use aws_smithy_http::query;
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One random request, with everything both signers need.
#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    host: &'static str,
    region: &'static str,
    bucket: &'static str,
    key: String,
    /// Raw (unencoded) query parameters.
    query: Vec<(String, String)>,
    /// Extra headers besides `host`, names in mixed case, values raw.
    headers: Vec<(String, String)>,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    time: SystemTime,
    /// `None` for `UNSIGNED-PAYLOAD`, else the body whose SHA-256 is signed.
    body: Option<Vec<u8>>,
}

impl Case {
    fn path(&self) -> String {
        let mut path = String::new();
        encode_path(&mut path, &format!("/{}/{}", self.bucket, self.key));
        path
    }

    /// The path as the AWS SDK encodes it from the raw bucket and key, for the oracle.
    fn oracle_path(&self) -> String {
        label::fmt_string(
            format!("/{}/{}", self.bucket, self.key),
            EncodingStrategy::Greedy,
        )
    }

    /// The query as the AWS SDK encodes the raw parameters, unsorted, for the oracle.
    fn oracle_query(&self) -> String {
        self.query
            .iter()
            .map(|(k, v)| format!("{}={}", query::fmt_string(k), query::fmt_string(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn query(&self) -> CanonicalQuery {
        CanonicalQuery::new(self.query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    fn credentials(&self) -> Credentials {
        let creds = Credentials::new(&self.access_key_id, &self.secret_access_key);
        match &self.session_token {
            Some(t) => creds.with_session_token(t),
            None => creds,
        }
    }

    fn headers(&self) -> Vec<(&str, &str)> {
        let mut headers = vec![("host", self.host)];
        headers.extend(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        headers
    }

    fn payload(&self) -> PayloadHash {
        match &self.body {
            Some(body) => PayloadHash::of(body),
            None => PayloadHash::Unsigned,
        }
    }

    /// The canonical request our signer builds, for failure messages.
    fn our_canonical_request(&self, path: &str, query: &str) -> String {
        let payload = self.payload().header_value();
        let date = AmzDate::new(self.time);
        let mut headers: Vec<(String, &str)> = self
            .headers()
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect();
        headers.push(("x-amz-content-sha256".to_owned(), &payload));
        headers.push(("x-amz-date".to_owned(), date.as_str()));
        if let Some(t) = &self.session_token {
            headers.push(("x-amz-security-token".to_owned(), t));
        }
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        let sorted: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        canonical_request(self.method, path, query, &sorted, &payload)
    }

    /// Signs with aws-sigv4: headers, or query parameters valid for `expires`.
    fn oracle(
        &self,
        path: &str,
        query: &str,
        expires: Option<Duration>,
    ) -> (SigningInstructions, String) {
        let uri = if query.is_empty() {
            format!("https://{}{path}", self.host)
        } else {
            format!("https://{}{path}?{query}", self.host)
        };
        let mut builder = http::Request::builder()
            .method(self.method)
            .uri(&uri)
            .header("host", self.host);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder.body(()).expect("a valid http::Request");
        let uri = request.uri().to_string();
        let headers = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().expect("ASCII header value")));
        let body = match &self.body {
            Some(body) if expires.is_none() => SignableBody::Bytes(body),
            _ => SignableBody::UnsignedPayload,
        };
        let signable = aws_sigv4::http_request::SignableRequest::new(
            request.method().as_str(),
            uri,
            headers,
            body,
        )
        .expect("aws-sigv4 accepts the request");

        let identity = aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "oracle",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.session_token_mode = SessionTokenMode::Include;
        if let Some(expires) = expires {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name("s3")
            .time(self.time)
            .settings(settings)
            .build()
            .expect("complete signing params")
            .into();
        sign(signable, &params)
            .expect("aws-sigv4 signs the request")
            .into_parts()
    }
}

fn header<'a>(instructions: &'a SigningInstructions, name: &str) -> Option<&'a str> {
    instructions
        .headers()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Signs `case` in headers with both signers and compares everything they add.
fn check_headers(case: &Case) -> Result<(), TestCaseError> {
    let path = case.path();
    let query = case.query();
    let headers = case.headers();
    let request = SignableRequest {
        method: case.method,
        path: &path,
        query: query.as_str(),
        headers: &headers,
    };
    let ours = Signer::new(case.region, "s3").sign_headers(
        &case.credentials(),
        case.time,
        &request,
        &case.payload(),
    );
    prop_assert_eq!(
        &path,
        &case.oracle_path(),
        "the path is encoded differently"
    );
    let (theirs, their_signature) = case.oracle(&case.oracle_path(), &case.oracle_query(), None);
    let their_authorization = header(&theirs, "authorization").unwrap_or_default();

    prop_assert_eq!(
        &ours.authorization,
        their_authorization,
        "authorization differs (aws-sigv4 signature {}); our canonical request:\n{}",
        their_signature,
        case.our_canonical_request(&path, query.as_str())
    );
    let expected_tail = format!("Signature={their_signature}");
    prop_assert!(ours.authorization.ends_with(&expected_tail));
    prop_assert_eq!(Some(ours.amz_date.as_str()), header(&theirs, "x-amz-date"));
    prop_assert_eq!(
        Some(ours.content_sha256.as_str()),
        header(&theirs, "x-amz-content-sha256")
    );
    prop_assert_eq!(
        ours.security_token.as_deref(),
        header(&theirs, "x-amz-security-token")
    );
    Ok(())
}

/// Presigns `case` with both signers and compares the query strings.
fn check_presign(case: &Case, expires_secs: u64) -> Result<(), TestCaseError> {
    let path = case.path();
    let query = case.query();
    let headers = case.headers();
    let request = SignableRequest {
        method: case.method,
        path: &path,
        query: query.as_str(),
        headers: &headers,
    };
    let ours = Signer::new(case.region, "s3")
        .presign_query(&case.credentials(), case.time, expires_secs, &request)
        .expect("expiry is within 7 days");
    let (theirs, their_signature) = case.oracle(
        &case.oracle_path(),
        &case.oracle_query(),
        Some(Duration::from_secs(expires_secs)),
    );

    let expected_tail = format!("&X-Amz-Signature={their_signature}");
    prop_assert!(
        ours.ends_with(&expected_tail),
        "signature differs: ours {}, aws-sigv4 {}",
        ours,
        their_signature
    );
    // Every parameter aws-sigv4 adds is in our query, encoded the same, and nothing else is.
    let our_pairs: Vec<&str> = ours.split('&').collect();
    for (name, value) in theirs.params() {
        let mut pair = String::new();
        encode_query_component(&mut pair, name);
        pair.push('=');
        encode_query_component(&mut pair, value);
        prop_assert!(
            our_pairs.contains(&pair.as_str()),
            "{} missing in {}",
            pair,
            ours
        );
    }
    let request_pairs = if query.is_empty() {
        0
    } else {
        query.as_str().split('&').count()
    };
    prop_assert_eq!(our_pairs.len(), request_pairs + theirs.params().len());
    Ok(())
}

const METHODS: &[&str] = &["GET", "PUT", "HEAD", "DELETE", "POST"];
const HOSTS: &[&str] = &[
    "s3.amazonaws.com",
    "examplebucket.s3.eu-west-1.amazonaws.com",
    "127.0.0.1:9000",
    "localhost:4566",
];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2"];
const BUCKETS: &[&str] = &["bucket", "my.bucket-1", "b"];

/// Header names aws-sigv4 signs (none of authorization, user-agent, x-amzn-trace-id,
/// transfer-encoding, x-amz-user-agent, x-amz-checksum-mode), and none the signer adds.
const HEADER_NAMES: &[&str] = &[
    "content-type",
    "content-md5",
    "content-language",
    "content-disposition",
    "cache-control",
    "range",
    "if-match",
    "if-none-match",
    "date",
    "x-amz-acl",
    "x-amz-storage-class",
    "x-amz-meta-a",
    "x-amz-meta-b",
    "x-amz-checksum-crc32",
    "x-amz-server-side-encryption",
];

/// Pieces of object keys: every troublesome kind, plus plain and arbitrary characters.
fn key_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            " ",
            "  ",
            "+",
            "~",
            "/",
            "//",
            ".",
            "..",
            "./",
            "../",
            "%",
            "%2F",
            "%20",
            "=&?#",
            "😀",
            "日本語",
            "ü",
            "\u{7f}",
            "\t",
            "*",
            "'()!",
            "\\",
            "a+b c",
        ])
        .prop_map(str::to_owned),
        "[A-Za-z0-9._-]{1,8}",
        any::<char>().prop_map(String::from),
        "\\PC{1,4}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop::collection::vec(key_piece(), 0..10).prop_map(|pieces| pieces.concat())
}

/// Query names and values: every printable ASCII character, sometimes other Unicode.
fn query_params() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![4 => "[ -~]{1,8}", 1 => "\\PC{1,4}"];
    let value = prop_oneof![
        2 => Just(String::new()),
        5 => "[ -~]{1,12}",
        1 => "\\PC{1,6}",
    ];
    prop::collection::vec((name, value), 0..6)
}

/// A header value: printable ASCII with runs of spaces, leading and trailing spaces.
fn header_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![Just(" ".to_owned()), Just("   ".to_owned()), "[!-~]{1,6}",];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = (prop::sample::select(HEADER_NAMES), any::<bool>()).prop_map(|(n, upper)| {
        if upper {
            n.to_ascii_uppercase()
        } else {
            n.to_owned()
        }
    });
    prop::collection::vec((name, header_value()), 0..5)
}

fn time() -> impl Strategy<Value = SystemTime> {
    // 1970 ..= 2100, with sub-second parts that must be ignored.
    (0u64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| UNIX_EPOCH + Duration::new(secs, nanos))
}

prop_compose! {
    fn case()(
        method in prop::sample::select(METHODS),
        host in prop::sample::select(HOSTS),
        region in prop::sample::select(REGIONS),
        bucket in prop::sample::select(BUCKETS),
        key in key(),
        query in query_params(),
        headers in headers(),
        access_key_id in "[A-Z0-9]{16,20}",
        secret_access_key in "[!-~]{1,40}",
        session_token in prop::option::of("[A-Za-z0-9+/=]{1,60}"),
        time in time(),
        body in prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
    ) -> Case {
        Case {
            method, host, region, bucket, key, query, headers, access_key_id,
            secret_access_key, session_token, time, body,
        }
    }
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Failures print their minimal input; no regression files are written into the tree.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// TEST-PLAN S2: header signing agrees with aws-sigv4 on random requests.
    #[test]
    fn header_signing_matches_aws_sigv4(case in case()) {
        check_headers(&case)?;
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// TEST-PLAN S2: presigned query strings agree with aws-sigv4 on random requests.
    #[test]
    fn presigning_matches_aws_sigv4(case in case(), expires_secs in 1u64..=604_800) {
        check_presign(&case, expires_secs)?;
    }
}

fn fixed_case(method: &'static str, key: &str) -> Case {
    Case {
        method,
        host: "examplebucket.s3.amazonaws.com",
        region: "us-east-1",
        bucket: "bucket",
        key: key.to_owned(),
        query: vec![
            ("continuation-token".to_owned(), "1+/=x y".to_owned()),
            ("prefix".to_owned(), String::new()),
            ("list-type".to_owned(), "2".to_owned()),
        ],
        headers: vec![
            ("X-Amz-Meta-A".to_owned(), "  a   b  ".to_owned()),
            ("x-amz-meta-a".to_owned(), "second".to_owned()),
            ("Range".to_owned(), "bytes=0-9".to_owned()),
        ],
        access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
        session_token: Some("token+/=".to_owned()),
        time: UNIX_EPOCH + Duration::from_secs(1_369_353_600),
        body: Some(b"Welcome to Amazon S3.".to_vec()),
    }
}

/// TEST-PLAN S2: the keys of TEST-PLAN S3, checked every run rather than by chance.
#[test]
fn tricky_keys_match_aws_sigv4() {
    let long_key = "k".repeat(1024);
    for key in [
        "a b",
        "a+b",
        "~t",
        "ü/日本語",
        "a//b",
        "a/./b",
        "a/../b",
        "%2F",
        "=&?#",
        "'()!*$@:,;[]",
        "trailing/",
        "",
        "..",
        "😀",
        long_key.as_str(),
    ] {
        for method in METHODS {
            let case = fixed_case(method, key);
            check_headers(&case).unwrap_or_else(|e| panic!("{method} {key:?}: {e}"));
            check_presign(&case, 604_800)
                .unwrap_or_else(|e| panic!("presign {method} {key:?}: {e}"));
        }
    }
}

/// The oracle, configured as above, reproduces the published S3 GET Object example, so its
/// settings are the S3 ones.
#[test]
fn oracle_reproduces_the_published_example() {
    let case = Case {
        method: "GET",
        host: "examplebucket.s3.amazonaws.com",
        region: "us-east-1",
        bucket: "",
        key: String::new(),
        query: Vec::new(),
        headers: vec![("Range".to_owned(), "bytes=0-9".to_owned())],
        access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
        session_token: None,
        time: UNIX_EPOCH + Duration::from_secs(1_369_353_600),
        body: Some(Vec::new()),
    };
    let (_, signature) = case.oracle("/test.txt", "", None);
    assert_eq!(
        signature,
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
}
