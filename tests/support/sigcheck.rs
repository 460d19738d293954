//! Checks the SigV4 signature of a request the scripted server recorded, by signing the same
//! request again with the crate's public signer and comparing the `Authorization` headers.

use super::fault::Recorded;
use async_s3::Credentials;
use async_s3::signing::{PayloadHash, SignableRequest, Signer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `YYYYMMDD'T'HHMMSS'Z'` to a time.
pub(crate) fn parse_amz_date(s: &str) -> SystemTime {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().expect("digits");
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    // Days from the civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15);
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).expect("after 1970"))
}

/// Asserts that `rec` carries a valid signature for `access_key`/`secret`, that its payload
/// hash is the SHA-256 of the body it carried (when the payload is signed), and returns the
/// signed header names.
pub(crate) fn assert_signed(rec: &Recorded, access_key: &str, secret: &str) -> Vec<String> {
    let auth = rec
        .header("authorization")
        .expect("an authorization header");
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .expect("SigV4");
    let mut parts = rest.split(", ");
    let credential = parts.next().expect("credential");
    let signed = parts
        .next()
        .and_then(|p| p.strip_prefix("SignedHeaders="))
        .expect("signed headers");
    let scope: Vec<&str> = credential.split('/').collect();
    assert_eq!(scope[0], access_key, "{auth}");
    let region = scope[2];
    let date = rec.header("x-amz-date").expect("x-amz-date");
    let sha = rec
        .header("x-amz-content-sha256")
        .expect("x-amz-content-sha256");
    let payload = if sha == "UNSIGNED-PAYLOAD" {
        PayloadHash::Unsigned
    } else {
        let expected = PayloadHash::of(&rec.body);
        assert_eq!(
            sha,
            expected.header_value(),
            "payload hash of the body sent"
        );
        expected
    };
    let names: Vec<String> = signed.split(';').map(str::to_owned).collect();
    let headers: Vec<(&str, &str)> = names
        .iter()
        .filter(|n| {
            !matches!(
                n.as_str(),
                "x-amz-date" | "x-amz-content-sha256" | "x-amz-security-token"
            )
        })
        .map(|n| {
            (
                n.as_str(),
                rec.header(n).expect("a signed header that was sent"),
            )
        })
        .collect();
    let (path, query) = rec.target.split_once('?').unwrap_or((&rec.target, ""));
    let req = SignableRequest {
        method: &rec.method,
        path,
        query,
        headers: &headers,
    };
    let creds = Credentials::new(access_key, secret);
    let ours = Signer::new(region, "s3").sign_headers(&creds, parse_amz_date(date), &req, &payload);
    assert_eq!(
        ours.authorization, auth,
        "signature of {} {}",
        rec.method, rec.target
    );
    names
}

/// Standard padded base64, for comparing `Content-MD5` headers.
pub(crate) fn base64(bytes: &[u8]) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard padded base64.
pub(crate) fn base64_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = alphabet
            .iter()
            .position(|&a| a == c)
            .expect("a base64 character") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
