//! Unit tests of the SigV4 signer: the published Amazon S3 examples step by step, then the
//! encoding, normalization, presign-expiry, session-token, key-cache and redaction rules.

use super::sigv4::*;
use super::*;
use crate::Credentials;
use hmac::Mac;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Header whitespace: botocore's folding rule.
mod whitespace;

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const HOST: &str = "examplebucket.s3.amazonaws.com";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// 2013-05-24T00:00:00Z, the time of every documented example.
fn example_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_369_353_600)
}

fn example_creds() -> Credentials {
    Credentials::new(ACCESS_KEY, SECRET_KEY)
}

fn signature_of(authorization: &str) -> &str {
    authorization
        .rsplit_once("Signature=")
        .expect("authorization has a Signature")
        .1
}

fn signed_header_names_of(authorization: &str) -> &str {
    let rest = authorization
        .split_once("SignedHeaders=")
        .expect("authorization has SignedHeaders")
        .1;
    rest.split_once(',')
        .expect("SignedHeaders is followed by ,")
        .0
}

fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One documented example of the header-signed flow, checked at every step.
struct HeaderExample<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    /// The caller's headers, as handed to [`Signer::sign_headers`].
    headers: &'a [(&'a str, &'a str)],
    payload: PayloadHash,
    canonical_request: &'a str,
    canonical_request_sha256: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

impl HeaderExample<'_> {
    fn check(&self) {
        let time = example_time();
        let amz_date = AmzDate::new(time);
        assert_eq!(amz_date.as_str(), "20130524T000000Z");
        let payload_hex = self.payload.header_value();

        // Step 1: the canonical request, headers sorted as the signer sorts them.
        let mut headers: Vec<(String, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), *v))
            .collect();
        headers.push(("x-amz-content-sha256".to_owned(), &payload_hex));
        headers.push(("x-amz-date".to_owned(), amz_date.as_str()));
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        let sorted: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let creq = canonical_request(self.method, self.path, self.query, &sorted, &payload_hex);
        assert_eq!(creq, self.canonical_request);
        assert_eq!(
            lower_hex(&Sha256::digest(creq.as_bytes())),
            self.canonical_request_sha256
        );

        // Step 2: the string to sign.
        let scope = credential_scope(&amz_date, REGION, "s3");
        assert_eq!(scope, "20130524/us-east-1/s3/aws4_request");
        let sts = string_to_sign(&amz_date, &scope, &creq);
        assert_eq!(
            sts,
            format!(
                "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{}",
                self.canonical_request_sha256
            )
        );

        // Step 3: the signature.
        let key = SigningKey::derive(SECRET_KEY, amz_date.date(), REGION, "s3");
        assert_eq!(key.sign(&sts), self.signature);

        // All three at once through the signer.
        let signer = Signer::new(REGION, "s3");
        let request = SignableRequest {
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
        };
        let signed = signer.sign_headers(&example_creds(), time, &request, &self.payload);
        assert_eq!(
            signed.authorization,
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                 SignedHeaders={}, Signature={}",
                self.signed_headers, self.signature
            )
        );
        assert_eq!(signed.amz_date, "20130524T000000Z");
        assert_eq!(signed.content_sha256, payload_hex);
        assert_eq!(signed.security_token, None);
    }
}

/// TEST-PLAN S1: the documented GET Object example (with a `Range` header).
#[test]
fn s3_docs_get_object_with_range() {
    HeaderExample {
        method: "GET",
        path: "/test.txt",
        query: "",
        headers: &[("Host", HOST), ("Range", "bytes=0-9")],
        payload: PayloadHash::EMPTY,
        canonical_request: "GET\n\
            /test.txt\n\
            \n\
            host:examplebucket.s3.amazonaws.com\n\
            range:bytes=0-9\n\
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
            x-amz-date:20130524T000000Z\n\
            \n\
            host;range;x-amz-content-sha256;x-amz-date\n\
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        canonical_request_sha256: "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
        signed_headers: "host;range;x-amz-content-sha256;x-amz-date",
        signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    }
    .check();
}

/// TEST-PLAN S1: the documented PUT Object example, whose key `test$file.text` encodes `$`.
#[test]
fn s3_docs_put_object() {
    let mut path = String::new();
    encode_path(&mut path, "/test$file.text");
    assert_eq!(path, "/test%24file.text");
    let payload = PayloadHash::of(b"Welcome to Amazon S3.");
    assert_eq!(
        payload.header_value(),
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    );
    HeaderExample {
        method: "PUT",
        path: &path,
        query: "",
        headers: &[
            ("Host", HOST),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ],
        payload,
        canonical_request: "PUT\n\
            /test%24file.text\n\
            \n\
            date:Fri, 24 May 2013 00:00:00 GMT\n\
            host:examplebucket.s3.amazonaws.com\n\
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n\
            x-amz-date:20130524T000000Z\n\
            x-amz-storage-class:REDUCED_REDUNDANCY\n\
            \n\
            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n\
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        canonical_request_sha256: "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
        signed_headers: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    }
    .check();
}

/// TEST-PLAN S1: the documented GET Bucket lifecycle example (a parameter without a value).
#[test]
fn s3_docs_get_bucket_lifecycle() {
    let query = CanonicalQuery::new([("lifecycle", "")]);
    assert_eq!(query.as_str(), "lifecycle=");
    HeaderExample {
        method: "GET",
        path: "/",
        query: query.as_str(),
        headers: &[("Host", HOST)],
        payload: PayloadHash::EMPTY,
        canonical_request: "GET\n\
            /\n\
            lifecycle=\n\
            host:examplebucket.s3.amazonaws.com\n\
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
            x-amz-date:20130524T000000Z\n\
            \n\
            host;x-amz-content-sha256;x-amz-date\n\
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        canonical_request_sha256: "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
        signed_headers: "host;x-amz-content-sha256;x-amz-date",
        signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    }
    .check();
}

/// TEST-PLAN S1: the documented GET Bucket (list objects) example; parameters arrive unsorted.
#[test]
fn s3_docs_list_objects() {
    let query = CanonicalQuery::new([("prefix", "J"), ("max-keys", "2")]);
    assert_eq!(query.as_str(), "max-keys=2&prefix=J");
    HeaderExample {
        method: "GET",
        path: "/",
        query: query.as_str(),
        headers: &[("Host", HOST)],
        payload: PayloadHash::EMPTY,
        canonical_request: "GET\n\
            /\n\
            max-keys=2&prefix=J\n\
            host:examplebucket.s3.amazonaws.com\n\
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
            x-amz-date:20130524T000000Z\n\
            \n\
            host;x-amz-content-sha256;x-amz-date\n\
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        canonical_request_sha256: "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
        signed_headers: "host;x-amz-content-sha256;x-amz-date",
        signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    }
    .check();
}

/// TEST-PLAN S1: the documented presigned URL (GET /test.txt, valid for 86400 s).
#[test]
fn s3_docs_presigned_get() {
    let time = example_time();
    let amz_date = AmzDate::new(time);
    let auth_query = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
        &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host";
    let expected_creq = format!(
        "GET\n/test.txt\n{auth_query}\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
    );

    let creq = canonical_request(
        "GET",
        "/test.txt",
        auth_query,
        &[("host", HOST)],
        "UNSIGNED-PAYLOAD",
    );
    assert_eq!(creq, expected_creq);
    let scope = credential_scope(&amz_date, REGION, "s3");
    let sts = string_to_sign(&amz_date, &scope, &creq);
    assert_eq!(
        sts,
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
         3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
    );
    let signature = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    assert_eq!(
        SigningKey::derive(SECRET_KEY, "20130524", REGION, "s3").sign(&sts),
        signature
    );

    let signer = Signer::new(REGION, "s3");
    let request = SignableRequest {
        method: "GET",
        path: "/test.txt",
        query: "",
        headers: &[("host", HOST)],
    };
    let query = signer
        .presign_query(&example_creds(), time, 86_400, &request)
        .expect("86400 s is a valid expiry");
    assert_eq!(query, format!("{auth_query}&X-Amz-Signature={signature}"));
}

#[test]
fn amz_date_formats_utc_and_drops_subseconds() {
    let t = UNIX_EPOCH + Duration::new(1_369_353_600 + 13 * 3600 + 4 * 60 + 5, 999_999_999);
    let d = AmzDate::new(t);
    assert_eq!(d.as_str(), "20130524T130405Z");
    assert_eq!(d.date(), "20130524");
    assert_eq!(AmzDate::new(UNIX_EPOCH).as_str(), "19700101T000000Z");
    assert_eq!(AmzDate::parse(d.as_str()), Some(d));
    for bad in [
        "",
        "20130524T130405",
        "20130524X130405Z",
        "2013052aT130405Z",
        "20130524T130405ZZ",
    ] {
        assert_eq!(AmzDate::parse(bad), None, "{bad}");
    }
}

#[test]
fn payload_hash_values() {
    assert_eq!(PayloadHash::EMPTY, PayloadHash::of(b""));
    assert_eq!(PayloadHash::EMPTY.header_value(), EMPTY_SHA256);
    assert_eq!(PayloadHash::Unsigned.header_value(), "UNSIGNED-PAYLOAD");
    assert_eq!(
        PayloadHash::StreamingSigned.header_value(),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    );
    assert_eq!(
        PayloadHash::StreamingSignedTrailer.header_value(),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    );
    assert_eq!(
        PayloadHash::StreamingUnsignedTrailer.header_value(),
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    );
}

fn encoded_path(raw: &str) -> String {
    let mut out = String::new();
    encode_path(&mut out, raw);
    out
}

fn encoded_component(raw: &str) -> String {
    let mut out = String::new();
    encode_query_component(&mut out, raw);
    out
}

#[test]
fn encode_path_keeps_slash_and_tilde_and_never_normalizes() {
    for raw in [
        "/bucket/a//b",
        "/bucket/./x",
        "/bucket/../x",
        "/bucket/a/./b/../c",
        "/bucket/~user/x~y",
        "/bucket/trailing/",
        "//",
        "/bucket/..",
        "/bucket/AZaz09-._~",
    ] {
        assert_eq!(encoded_path(raw), raw, "{raw:?} must be left as is");
    }
}

#[test]
fn encode_path_percent_encodes_everything_else_in_upper_case_hex() {
    assert_eq!(encoded_path("/b/a b"), "/b/a%20b");
    assert_eq!(encoded_path("/b/a+b"), "/b/a%2Bb");
    assert_eq!(encoded_path("/b/%2F"), "/b/%252F");
    assert_eq!(encoded_path("/b/=&?#"), "/b/%3D%26%3F%23");
    assert_eq!(
        encoded_path("/b/ü/日本語"),
        "/b/%C3%BC/%E6%97%A5%E6%9C%AC%E8%AA%9E"
    );
    assert_eq!(encoded_path("/b/😀"), "/b/%F0%9F%98%80");
    assert_eq!(encoded_path("/b/\u{7f}\0\n"), "/b/%7F%00%0A");
    // Every printable ASCII character that is not unreserved, one by one.
    for c in (0x20u8..0x7f).map(char::from) {
        let enc = encoded_path(&c.to_string());
        if c.is_ascii_alphanumeric() || "-._~/".contains(c) {
            assert_eq!(enc, c.to_string());
        } else {
            assert_eq!(enc, format!("%{:02X}", c as u32), "{c:?}");
        }
    }
}

#[test]
fn encode_query_component_encodes_slash_too() {
    assert_eq!(encoded_component("a/b"), "a%2Fb");
    assert_eq!(encoded_component("a b+c=d&e~f"), "a%20b%2Bc%3Dd%26e~f");
    assert_eq!(encoded_component("é"), "%C3%A9");
}

#[test]
fn canonical_query_sorts_by_encoded_name_then_value() {
    let q = CanonicalQuery::new([("b", "2"), ("a", "z"), ("a", "y"), ("A", "x"), ("a b", "1")]);
    assert_eq!(q.as_str(), "A=x&a=y&a=z&a%20b=1&b=2");

    // `{` sorts after `z` raw but before it encoded (`%7B`); the same for values.
    let q = CanonicalQuery::new([("z", "1"), ("{", "2"), ("k", "z"), ("k", "|")]);
    assert_eq!(q.as_str(), "%7B=2&k=%7C&k=z&z=1");
}

#[test]
fn canonical_query_writes_name_equals_for_empty_values() {
    let q = CanonicalQuery::new([("uploads", ""), ("prefix", "")]);
    assert_eq!(q.as_str(), "prefix=&uploads=");
    assert!(!q.is_empty());
    let none = CanonicalQuery::new(Vec::<(&str, &str)>::new());
    assert!(none.is_empty());
    assert_eq!(none.as_str(), "");
}

#[test]
fn canonical_query_merge_keeps_order_and_encoding() {
    let base = CanonicalQuery::new([("x-id", "GetObject"), ("versionId", "a/b")]);
    let merged = CanonicalQuery::merge(base.as_str(), [("X-Amz-Expires", "60"), ("empty", "")]);
    assert_eq!(
        merged.as_str(),
        "X-Amz-Expires=60&empty=&versionId=a%2Fb&x-id=GetObject"
    );
    let from_empty = CanonicalQuery::merge("", [("b", "1"), ("a", "2")]);
    assert_eq!(from_empty.into_string(), "a=2&b=1");
}

/// TEST-PLAN S5: headers of one name (in any case) become one line, values joined by `,` in
/// the order given, and one entry in `SignedHeaders`.
#[test]
fn same_name_headers_are_joined_with_commas() {
    let creq = canonical_request(
        "GET",
        "/",
        "",
        &[
            ("host", "h"),
            ("x-amz-meta-a", " 1 "),
            ("x-amz-meta-a", "2  3"),
        ],
        "UNSIGNED-PAYLOAD",
    );
    assert_eq!(
        creq,
        "GET\n/\n\nhost:h\nx-amz-meta-a:1,2 3\n\nhost;x-amz-meta-a\nUNSIGNED-PAYLOAD"
    );

    // Through the signer: names are lowercased, sorted stably, and joined.
    let time = example_time();
    let headers = [
        ("X-Amz-Meta-A", "first"),
        ("Host", HOST),
        ("x-amz-meta-a", "  second   value "),
        ("Content-Type", "text/plain"),
    ];
    let request = SignableRequest {
        method: "PUT",
        path: "/k",
        query: "",
        headers: &headers,
    };
    let signed = Signer::new(REGION, "s3").sign_headers(
        &example_creds(),
        time,
        &request,
        &PayloadHash::Unsigned,
    );
    let expected_creq = "PUT\n/k\n\n\
        content-type:text/plain\n\
        host:examplebucket.s3.amazonaws.com\n\
        x-amz-content-sha256:UNSIGNED-PAYLOAD\n\
        x-amz-date:20130524T000000Z\n\
        x-amz-meta-a:first,second value\n\
        \n\
        content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-a\n\
        UNSIGNED-PAYLOAD";
    let amz_date = AmzDate::new(time);
    let sts = string_to_sign(
        &amz_date,
        &credential_scope(&amz_date, REGION, "s3"),
        expected_creq,
    );
    let expected_sig = SigningKey::derive(SECRET_KEY, "20130524", REGION, "s3").sign(&sts);
    assert_eq!(signature_of(&signed.authorization), expected_sig);
    assert_eq!(
        signed_header_names_of(&signed.authorization),
        "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-a"
    );
}

fn presign_request() -> SignableRequest<'static> {
    SignableRequest {
        method: "GET",
        path: "/bucket/key",
        query: "",
        headers: &[("host", HOST)],
    }
}

/// TEST-PLAN S6: a presigned URL lasts at least 1 s and at most seven days (604,800 s).
#[test]
fn presign_expiry_bounds() {
    let signer = Signer::new(REGION, "s3");
    let creds = example_creds();
    let time = example_time();
    let request = presign_request();

    for bad in [0, MAX_PRESIGN_EXPIRY_SECS + 1, u64::MAX] {
        let err = signer
            .presign_query(&creds, time, bad, &request)
            .expect_err("expiry out of range must be rejected");
        assert_eq!(err, PresignError { expires_secs: bad });
        assert!(err.to_string().contains(&bad.to_string()), "{err}");
    }
    assert_eq!(MAX_PRESIGN_EXPIRY_SECS, 604_800);
    for good in [1, 604_800] {
        let q = signer
            .presign_query(&creds, time, good, &request)
            .expect("expiry in range must be accepted");
        assert!(q.contains(&format!("&X-Amz-Expires={good}&")), "{q}");
    }
}

#[test]
fn presign_keeps_the_request_query_and_signs_extra_headers() {
    let signer = Signer::new(REGION, "s3");
    let query = CanonicalQuery::new([("response-content-type", "text/plain"), ("a", "")]);
    let headers = [("Host", HOST), ("Content-MD5", "  abc==  ")];
    let request = SignableRequest {
        method: "PUT",
        path: "/bucket/key",
        query: query.as_str(),
        headers: &headers,
    };
    let time = example_time();
    let out = signer
        .presign_query(&example_creds(), time, 60, &request)
        .expect("valid expiry");
    let (signed_query, signature) = out
        .rsplit_once("&X-Amz-Signature=")
        .expect("signature is last");
    assert_eq!(
        signed_query,
        "X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=60\
         &X-Amz-SignedHeaders=content-md5%3Bhost&a=&response-content-type=text%2Fplain"
    );
    let creq = format!(
        "PUT\n/bucket/key\n{signed_query}\ncontent-md5:abc==\nhost:{HOST}\n\n\
         content-md5;host\nUNSIGNED-PAYLOAD"
    );
    let amz_date = AmzDate::new(time);
    let sts = string_to_sign(&amz_date, &credential_scope(&amz_date, REGION, "s3"), &creq);
    assert_eq!(
        signature,
        SigningKey::derive(SECRET_KEY, "20130524", REGION, "s3").sign(&sts)
    );
}

#[test]
fn session_token_is_a_signed_header() {
    let token = "FQoGZXIvYXdzE+token/with=chars";
    let creds = example_creds().with_session_token(token);
    let time = example_time();
    let request = SignableRequest {
        method: "GET",
        path: "/test.txt",
        query: "",
        headers: &[("host", HOST)],
    };
    let signed =
        Signer::new(REGION, "s3").sign_headers(&creds, time, &request, &PayloadHash::EMPTY);
    assert_eq!(signed.security_token.as_deref(), Some(token));
    assert!(
        signed
            .iter()
            .any(|(n, v)| n == "x-amz-security-token" && v == token)
    );
    assert_eq!(
        signed_header_names_of(&signed.authorization),
        "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
    );

    let creq = format!(
        "GET\n/test.txt\n\nhost:{HOST}\nx-amz-content-sha256:{EMPTY_SHA256}\n\
         x-amz-date:20130524T000000Z\nx-amz-security-token:{token}\n\n\
         host;x-amz-content-sha256;x-amz-date;x-amz-security-token\n{EMPTY_SHA256}"
    );
    let amz_date = AmzDate::new(time);
    let sts = string_to_sign(&amz_date, &credential_scope(&amz_date, REGION, "s3"), &creq);
    assert_eq!(
        signature_of(&signed.authorization),
        SigningKey::derive(SECRET_KEY, "20130524", REGION, "s3").sign(&sts)
    );

    // Without a token there is no such header.
    let plain = Signer::new(REGION, "s3").sign_headers(
        &example_creds(),
        time,
        &request,
        &PayloadHash::EMPTY,
    );
    assert!(plain.iter().all(|(n, _)| n != "x-amz-security-token"));
    assert_eq!(plain.iter().count(), 3);
}

#[test]
fn session_token_is_a_signed_presign_parameter() {
    let token = "FQoGZXIvYXdzE+token/with=chars";
    let creds = example_creds().with_session_token(token);
    let time = example_time();
    let out = Signer::new(REGION, "s3")
        .presign_query(&creds, time, 3600, &presign_request())
        .expect("valid expiry");
    let (signed_query, signature) = out
        .rsplit_once("&X-Amz-Signature=")
        .expect("signature is last");
    assert_eq!(
        signed_query,
        "X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600\
         &X-Amz-Security-Token=FQoGZXIvYXdzE%2Btoken%2Fwith%3Dchars\
         &X-Amz-SignedHeaders=host"
    );
    let creq = format!("GET\n/bucket/key\n{signed_query}\nhost:{HOST}\n\nhost\nUNSIGNED-PAYLOAD");
    let amz_date = AmzDate::new(time);
    let sts = string_to_sign(&amz_date, &credential_scope(&amz_date, REGION, "s3"), &creq);
    assert_eq!(
        signature,
        SigningKey::derive(SECRET_KEY, "20130524", REGION, "s3").sign(&sts)
    );
}

fn sign_get(signer: &Signer, creds: &Credentials, time: SystemTime) -> String {
    let request = SignableRequest {
        method: "GET",
        path: "/bucket/photos/cat.jpg",
        query: "",
        headers: &[("host", HOST), ("range", "bytes=0-99")],
    };
    signer
        .sign_headers(creds, time, &request, &PayloadHash::Unsigned)
        .authorization
}

fn presign_get(signer: &Signer, creds: &Credentials, time: SystemTime) -> String {
    signer
        .presign_query(creds, time, 900, &presign_request())
        .expect("valid expiry")
}

/// The cached key must give what a fresh signer gives, whatever changed since the last call.
#[test]
fn signing_key_cache_matches_fresh_derivation() {
    let day1 = example_time();
    let day1_later = day1 + Duration::from_secs(23 * 3600 + 59 * 60 + 59);
    let day2 = day1 + Duration::from_secs(86_400);
    let a = Credentials::new("AKIDAAAAAAAAAAAAAAAA", "secret-a");
    let b = Credentials::new("AKIDBBBBBBBBBBBBBBBB", "secret-b");
    // Same access key id, rotated secret.
    let a_rotated = Credentials::new("AKIDAAAAAAAAAAAAAAAA", "secret-a-rotated");
    // Same secret, another access key id.
    let a_other_id = Credentials::new("AKIDCCCCCCCCCCCCCCCC", "secret-a");

    let cached = Signer::new(REGION, "s3");
    let steps = [
        (&a, day1),
        (&b, day1),
        (&a, day1),
        (&a, day1_later),
        (&a, day2),
        (&a, day1),
        (&a_rotated, day1),
        (&a, day1),
        (&a_other_id, day1),
        (&a, day1),
    ];
    for (i, (creds, time)) in steps.iter().enumerate() {
        let fresh = Signer::new(REGION, "s3");
        assert_eq!(
            sign_get(&cached, creds, *time),
            sign_get(&fresh, creds, *time),
            "header signing, step {i}"
        );
        let fresh = Signer::new(REGION, "s3");
        assert_eq!(
            presign_get(&cached, creds, *time),
            presign_get(&fresh, creds, *time),
            "presigning, step {i}"
        );
    }

    // A rotated secret really changes the signature (the cache did not mask it).
    let s = Signer::new(REGION, "s3");
    assert_ne!(sign_get(&s, &a, day1), sign_get(&s, &a_rotated, day1));
    // Another region is another key.
    assert_ne!(
        sign_get(&Signer::new("us-east-1", "s3"), &a, day1),
        sign_get(&Signer::new("eu-west-1", "s3"), &a, day1)
    );
}

#[test]
fn signing_key_derivation_depends_on_every_input() {
    let base = SigningKey::derive(SECRET_KEY, "20130524", REGION, "s3");
    assert_eq!(
        base,
        SigningKey::derive(SECRET_KEY, "20130524", REGION, "s3")
    );
    assert_ne!(base, SigningKey::derive("other", "20130524", REGION, "s3"));
    assert_ne!(
        base,
        SigningKey::derive(SECRET_KEY, "20130525", REGION, "s3")
    );
    assert_ne!(
        base,
        SigningKey::derive(SECRET_KEY, "20130524", "us-west-2", "s3")
    );
    assert_ne!(
        base,
        SigningKey::derive(SECRET_KEY, "20130524", REGION, "iam")
    );
}

/// TEST-PLAN X1 (signing part): no Debug output shows the secret, the token or the key.
#[test]
fn debug_never_shows_secrets() {
    const SECRET: &str = "SECRET-CANARY-1f2e3d";
    const TOKEN: &str = "TOKEN-CANARY-9a8b7c";
    let creds = Credentials::new("AKIDCANARY", SECRET).with_session_token(TOKEN);
    let time = example_time();
    let signer = Signer::new(REGION, "s3");
    let request = presign_request();
    let signed = signer.sign_headers(&creds, time, &request, &PayloadHash::EMPTY);
    assert_eq!(signed.security_token.as_deref(), Some(TOKEN));
    let key = SigningKey::derive(SECRET, "20130524", REGION, "s3");
    let key_hex = lower_hex(&key.0);

    let outputs = [
        format!("{creds:?}"),
        format!("{creds:#?}"),
        format!("{signed:?}"),
        format!("{signed:#?}"),
        format!("{key:?}"),
        format!("{key:#?}"),
        // The signer's cache now holds the secret and the key.
        format!("{signer:?}"),
        format!("{signer:#?}"),
        format!("{request:?}"),
    ];
    for out in &outputs {
        assert!(!out.contains(SECRET), "secret leaked: {out}");
        assert!(!out.contains(TOKEN), "token leaked: {out}");
        assert!(!out.contains(&key_hex), "signing key leaked: {out}");
    }
    // Redacted, not simply missing.
    assert!(outputs[2].contains("redacted"), "{}", outputs[2]);
    assert!(outputs[4].contains("redacted"), "{}", outputs[4]);
}

/// The string to sign fed to the HMAC piece by piece is byte for byte the one built whole.
#[test]
fn fed_string_to_sign_equals_the_built_one() {
    let date = AmzDate::new(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_369_353_600));
    let scope = credential_scope(&date, "us-east-1", "s3");
    let creq = "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD";
    let key = SigningKey::derive("secret", date.date(), "us-east-1", "s3");
    let whole = key.sign(&string_to_sign(&date, &scope, creq));
    let mut mac = key.mac();
    let creq_hash: [u8; 32] = Sha256::digest(creq.as_bytes()).into();
    feed_string_to_sign(&mut mac, date.as_str(), &scope, &creq_hash);
    assert_eq!(hex::encode(mac.finalize().into_bytes()), whole);
}

/// The canonical request hashed as it is written (never built) hashes the same bytes as the
/// one built whole, and header values are trimmed as the plain rule says, for any values.
#[test]
fn hashed_canonical_request_equals_the_built_one() {
    use proptest::prelude::*;
    /// botocore's rule: `' '.join(v.split())` (ASCII separators; non-ASCII kept).
    fn naive_trim(v: &str) -> String {
        let mut out = String::new();
        let separator = |c: char| {
            matches!(
                c,
                ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c' | '\x1c'..='\x1f'
            )
        };
        for w in v.split(separator).filter(|w| !w.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
        out
    }
    proptest!(ProptestConfig::with_cases(2000), |(
        values in proptest::collection::vec("[ a-zé\t\r\n\x0b=]{0,300}", 1..6),
        path in "/[a-z/]{0,200}",
    )| {
        let names = ["a", "b", "b", "host", "x-amz-meta-long-header-name-to-cross-blocks", "z"];
        let headers: Vec<(&str, &str)> =
            values.iter().enumerate().map(|(i, v)| (names[i], v.as_str())).collect();
        let built = canonical_request("PUT", &path, "a=b", &headers, "UNSIGNED-PAYLOAD");
        let mut sink = HashSink::new();
        write_canonical_request(&mut sink, "PUT", &path, "a=b", &headers, "UNSIGNED-PAYLOAD");
        let want: [u8; 32] = Sha256::digest(built.as_bytes()).into();
        prop_assert_eq!(sink.finish(), want);
        for v in &values {
            let mut t = String::new();
            push_trimmed(&mut t, v);
            prop_assert_eq!(t, naive_trim(v));
        }
    });
}

/// The two published aws-chunked examples (a 66,560-byte object of `a` in a 64 KiB and a
/// 1 KiB chunk): the seed signature, every chunk signature and, with a trailer, the
/// trailer signature over `x-amz-checksum-crc32c`.
#[test]
fn aws_chunked_examples() {
    let chunk_hashes: [[u8; 32]; 3] = [
        Sha256::digest(vec![b'a'; 65_536]).into(),
        Sha256::digest(vec![b'a'; 1024]).into(),
        Sha256::digest(b"").into(),
    ];
    let signer = Signer::new(REGION, "s3");
    let time = example_time();

    let plain = SignableRequest {
        method: "PUT",
        path: "/examplebucket/chunkObject.txt",
        query: "",
        headers: &[
            ("Host", "s3.amazonaws.com"),
            ("Content-Encoding", "aws-chunked"),
            ("Content-Length", "66824"),
            ("x-amz-decoded-content-length", "66560"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ],
    };
    let seed = signer.sign_headers(
        &example_creds(),
        time,
        &plain,
        &PayloadHash::StreamingSigned,
    );
    assert_eq!(
        seed.signature(),
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    );
    let mut chunks = signer.chunk_signer(&example_creds(), &seed);
    let got: Vec<String> = chunk_hashes
        .iter()
        .map(|h| chunks.sign_chunk(h).to_owned())
        .collect();
    assert_eq!(
        got,
        [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ]
    );

    let with_trailer = SignableRequest {
        headers: &[
            ("host", "s3.amazonaws.com"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-trailer", "x-amz-checksum-crc32c"),
        ],
        ..plain
    };
    let seed = signer.sign_headers(
        &example_creds(),
        time,
        &with_trailer,
        &PayloadHash::StreamingSignedTrailer,
    );
    assert_eq!(
        seed.signature(),
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    );
    let mut chunks = signer.chunk_signer(&example_creds(), &seed);
    let got: Vec<String> = chunk_hashes
        .iter()
        .map(|h| chunks.sign_chunk(h).to_owned())
        .collect();
    assert_eq!(
        got,
        [
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ]
    );
    assert_eq!(
        chunks.sign_trailer(b"x-amz-checksum-crc32c:sOO8/Q==\n"),
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
    );
}

// presigned POST (issue 11)
/// The AWS-published example of a browser POST upload (sigv4-post-example): its base64
/// policy, signed with the example keys on 2015-12-29 in us-east-1.
#[test]
fn post_policy_matches_the_published_example() {
    const POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_451_347_200);
    let creds = SigningCredentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
    );
    let signer = Signer::new("us-east-1", "s3");
    assert_eq!(
        signer.sign_post_policy(creds, time, POLICY),
        "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
    );
    // The same as deriving the key by hand and signing the policy with it.
    let key = SigningKey::derive(
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "20151229",
        "us-east-1",
        "s3",
    );
    assert_eq!(
        key.sign(POLICY),
        signer.sign_post_policy(creds, time, POLICY)
    );
}
