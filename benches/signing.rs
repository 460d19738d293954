//! SigV4 signing cost: our signer next to aws-sigv4 on the same requests.
//!
//! Each pair does comparable work per iteration: from an already-encoded path and the request
//! headers to the signed output (headers, or the presigned parameters). Credentials, the signer
//! (with its warm key cache) and the aws-sigv4 identity and settings template are built once,
//! as a client would hold them; aws-sigv4's per-request `SignableRequest` (which parses the
//! URI) and `SigningParams` are built inside the loop, as each request needs them.

#![allow(missing_docs)]

use async_s3::Credentials;
use async_s3::signing::{PayloadHash, SignableRequest, Signer};
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const HOST: &str = "s3.us-east-1.amazonaws.com";
const PATH: &str = "/bucket/photos/2024/cat.jpg";
const RANGE: &str = "bytes=0-1048575";
const PRESIGN_EXPIRY: Duration = Duration::from_secs(900);

fn time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_717_243_200) // 2024-06-01T12:00:00Z
}

fn aws_settings(presign: bool) -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    if presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(PRESIGN_EXPIRY);
    }
    settings
}

fn sigv4(c: &mut Criterion) {
    let mut group = c.benchmark_group("sigv4");
    let time = time();

    let creds = Credentials::new(ACCESS_KEY, SECRET_KEY);
    let signer = Signer::new(REGION, "s3");
    let get_headers = [("host", HOST), ("range", RANGE)];
    let presign_headers = [("host", HOST)];
    // Warm the signing-key cache, as every request after the first of the day finds it.
    let _ = signer.sign_headers(
        &creds,
        time,
        &SignableRequest {
            method: "GET",
            path: PATH,
            query: "",
            headers: &get_headers,
        },
        &PayloadHash::Unsigned,
    );

    group.bench_function("async_s3/sign_get", |b| {
        b.iter(|| {
            let request = SignableRequest {
                method: "GET",
                path: black_box(PATH),
                query: "",
                headers: black_box(&get_headers),
            };
            black_box(signer.sign_headers(
                black_box(&creds),
                black_box(time),
                &request,
                &PayloadHash::Unsigned,
            ))
        });
    });

    let identity =
        aws_credential_types::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into();
    let uri = format!("https://{HOST}{PATH}");
    let header_settings = aws_settings(false);
    group.bench_function("aws_sigv4/sign_get", |b| {
        b.iter(|| {
            let request = aws_sigv4::http_request::SignableRequest::new(
                "GET",
                black_box(uri.as_str()),
                black_box(&get_headers).iter().copied(),
                SignableBody::UnsignedPayload,
            )
            .expect("valid request");
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region(REGION)
                .name("s3")
                .time(black_box(time))
                .settings(header_settings.clone())
                .build()
                .expect("complete params")
                .into();
            black_box(sign(request, &params).expect("signed"))
        });
    });

    group.bench_function("async_s3/presign_get", |b| {
        b.iter(|| {
            let request = SignableRequest {
                method: "GET",
                path: black_box(PATH),
                query: "",
                headers: black_box(&presign_headers),
            };
            black_box(
                signer
                    .presign_query(
                        black_box(&creds),
                        black_box(time),
                        PRESIGN_EXPIRY.as_secs(),
                        &request,
                    )
                    .expect("valid expiry"),
            )
        });
    });

    let presign_settings = aws_settings(true);
    group.bench_function("aws_sigv4/presign_get", |b| {
        b.iter(|| {
            let request = aws_sigv4::http_request::SignableRequest::new(
                "GET",
                black_box(uri.as_str()),
                black_box(&presign_headers).iter().copied(),
                SignableBody::UnsignedPayload,
            )
            .expect("valid request");
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region(REGION)
                .name("s3")
                .time(black_box(time))
                .settings(presign_settings.clone())
                .build()
                .expect("complete params")
                .into();
            black_box(sign(request, &params).expect("signed"))
        });
    });

    group.finish();
}

criterion_group!(benches, sigv4);
criterion_main!(benches);
