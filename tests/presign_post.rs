//! Presigned POST (issue 11, item 7): forms built from the output are posted to the
//! in-process s3s-fs server, which checks the SigV4 POST signature and the policy's
//! conditions; the policy and signature are also recomputed here with our signer.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::signing::SigningKey;
use async_s3::{ErrorKind, PresignedPost};
use std::time::Duration;
use support::sigcheck::base64_decode;
use support::{SECRET_KEY, env};

/// A multipart/form-data body: the fields in order, then the file.
fn form(fields: &[(String, String)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----async-s3-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (n, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.png\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post(p: &PresignedPost, fields: &[(String, String)], file: &[u8]) -> (u16, String) {
    let (ct, body) = form(fields, file);
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(&p.url)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` for the `x-amz-date` `YYYYMMDDTHHMMSSZ` plus `secs`.
fn iso_plus(amz_date: &str, secs: i64) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(amz_date, &f).unwrap() + time::Duration::seconds(secs);
    let out =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
    t.format(&out).unwrap()
}

fn field<'a>(p: &'a PresignedPost, name: &str) -> &'a str {
    &p.fields.iter().find(|(n, _)| n == name).unwrap().1
}

#[tokio::test]
async fn exact_key_upload_is_accepted_and_stored() {
    let e = env("postbucket").await;
    let p = e
        .bucket
        .presign_post("avatars/42.png", Duration::from_secs(600))
        .content_type("image/png")
        .content_length_range(1, 1024)
        .success_action_status(201)
        .metadata("Owner", "user 42")
        .await
        .unwrap();
    assert_eq!(p.url, format!("{}/postbucket", e.server.endpoint()));
    let names: Vec<&str> = p.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "key",
            "Content-Type",
            "success_action_status",
            "x-amz-meta-owner",
            "policy",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-signature",
        ]
    );
    assert_eq!(field(&p, "key"), "avatars/42.png");
    assert_eq!(field(&p, "x-amz-algorithm"), "AWS4-HMAC-SHA256");

    // The policy says what was asked, and the signature is SigV4's over the base64 policy.
    let policy: serde_json::Value =
        serde_json::from_slice(&base64_decode(field(&p, "policy"))).unwrap();
    let date = field(&p, "x-amz-date");
    let credential = field(&p, "x-amz-credential");
    assert_eq!(
        policy["conditions"],
        serde_json::json!([
            {"bucket": "postbucket"},
            ["eq", "$key", "avatars/42.png"],
            ["content-length-range", 1, 1024],
            {"Content-Type": "image/png"},
            {"success_action_status": "201"},
            {"x-amz-meta-owner": "user 42"},
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": credential},
            {"x-amz-date": date},
        ])
    );
    // Whole seconds with ".000Z", as AWS documents, and exactly x-amz-date + 600 s.
    let expiration = policy["expiration"].as_str().unwrap();
    assert_eq!(expiration, iso_plus(date, 600), "{expiration}");
    let key = SigningKey::derive(SECRET_KEY, &date[..8], "us-east-1", "s3");
    assert_eq!(key.sign(field(&p, "policy")), field(&p, "x-amz-signature"));
    assert!(!format!("{p:?}").contains(field(&p, "x-amz-signature")));

    let (status, body) = post(&p, &p.fields, b"\x89PNG fake image").await;
    assert_eq!(status, 201, "{body}");
    let got = e.bucket.get_object("avatars/42.png").await.unwrap();
    assert_eq!(got.meta.content_type.as_deref(), Some("image/png"));
    assert_eq!(
        got.meta.metadata.get("owner").map(String::as_str),
        Some("user 42")
    );
    assert_eq!(&got.bytes().await.unwrap()[..], b"\x89PNG fake image");
}

#[tokio::test]
async fn server_refuses_what_the_policy_does_not_allow() {
    let e = env("postrules").await;
    let p = e
        .bucket
        .presign_post("unused", Duration::from_secs(600))
        .key_starts_with("uploads/user1/")
        .content_length_range(1, 16)
        .await
        .unwrap();
    assert_eq!(field(&p, "key"), "uploads/user1/${filename}");

    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        p.fields
            .iter()
            .map(|(n, v)| {
                let v = if n == name {
                    value.to_owned()
                } else {
                    v.clone()
                };
                (n.clone(), v)
            })
            .collect()
    };
    // Within the rules. (S3 replaces `${filename}` with the file's name; s3s-fs 0.14 does
    // not, so the form names the key itself, as a page's script may.)
    let (status, body) = post(&p, &with("key", "uploads/user1/photo.png"), b"small").await;
    assert!((200..300).contains(&status), "{status} {body}");
    assert_eq!(
        &e.bucket
            .get_object("uploads/user1/photo.png")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()[..],
        b"small"
    );

    // Another key, a bad signature, a file too large: each refused.
    let (status, _) = post(&p, &with("key", "uploads/user2/x"), b"small").await;
    assert!((400..500).contains(&status), "other key: {status}");
    let bad_sig = "0".repeat(64);
    let mut tampered = with("key", "uploads/user1/t");
    tampered
        .iter_mut()
        .find(|(n, _)| n == "x-amz-signature")
        .unwrap()
        .1 = bad_sig;
    let (status, _) = post(&p, &tampered, b"small").await;
    assert_eq!(status, 403, "tampered signature");
    let (status, _) = post(&p, &with("key", "uploads/user1/big"), &[b'x'; 17]).await;
    assert!((400..500).contains(&status), "too large: {status}");
}

#[tokio::test]
async fn bad_policies_are_refused_before_signing() {
    let e = env("postbad").await;
    let cases = [
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .key_starts_with(""),
        e.bucket.presign_post("", Duration::from_secs(60)),
        e.bucket.presign_post("k", Duration::ZERO),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .content_length_range(10, 1),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("x-amz-signature", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .metadata("m", "caf\u{e9}"),
        // Expiries past the 7 days presigned URLs allow, up to one that overflows a date.
        e.bucket.presign_post("k", Duration::MAX),
        e.bucket.presign_post("k", Duration::from_secs(604_801)),
        e.bucket
            .presign_post("k", Duration::from_secs(u64::MAX / 2))
            .content_type("a"),
        // success_action_status is 200, 201 or 204.
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .success_action_status(302),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .success_action_status(0),
        // Field names: quotes, CR/LF, control characters, spaces, non-ASCII, reserved names
        // (case-insensitively), duplicates (also across exact and starts-with conditions).
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("a\"b", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("a\r\nb", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("a\u{7}", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("a b", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .metadata("caf\u{e9}", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("bucket", "other"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("Policy", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("X-Amz-Date", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("x-amz-signature", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .field("Key", "x"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .content_type("a")
            .field("content-type", "b"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .content_type("image/png")
            .content_type_starts_with("image/"),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .success_action_status(201)
            .success_action_status(204),
    ];
    for (i, c) in cases.into_iter().enumerate() {
        let err = c.await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "case {i}: {err}");
    }
    // The limits themselves are accepted.
    for ok in [
        e.bucket.presign_post("k", Duration::from_secs(604_800)),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .success_action_status(200),
        e.bucket
            .presign_post("k", Duration::from_secs(60))
            .success_action_status(204)
            .field("x-ignore-note", "x"),
    ] {
        ok.await.unwrap();
    }
}

#[tokio::test]
async fn session_token_is_a_field_and_a_condition_and_never_printed() {
    let token = "FwoGZXIvYXdzEXAMPLE-session-token-canary";
    let client = async_s3::Client::builder()
        .endpoint("https://s3.eu-west-1.amazonaws.com")
        .region("eu-west-1")
        .credentials(async_s3::Credentials::new("AKIDPOST", "secret").with_session_token(token))
        .build()
        .unwrap();
    let p = client
        .bucket("photos")
        .presign_post("a.jpg", Duration::from_secs(60))
        .await
        .unwrap();
    // Virtual-hosted style on AWS: the form posts to the bucket's own host.
    assert_eq!(p.url, "https://photos.s3.eu-west-1.amazonaws.com/");
    assert_eq!(field(&p, "x-amz-security-token"), token);
    assert!(field(&p, "x-amz-credential").ends_with("/eu-west-1/s3/aws4_request"));
    let policy: serde_json::Value =
        serde_json::from_slice(&base64_decode(field(&p, "policy"))).unwrap();
    let conditions = policy["conditions"].as_array().unwrap();
    assert!(conditions.contains(&serde_json::json!({"x-amz-security-token": token})));
    let date = field(&p, "x-amz-date");
    let key = SigningKey::derive("secret", &date[..8], "eu-west-1", "s3");
    assert_eq!(key.sign(field(&p, "policy")), field(&p, "x-amz-signature"));
    let shown = format!("{p:?}");
    assert!(!shown.contains(token) && !shown.contains(field(&p, "x-amz-signature")));
}
