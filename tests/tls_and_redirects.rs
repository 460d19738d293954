//! TLS trust and transport settings (TEST-PLAN X3, X4): a server with a certificate from an
//! unknown CA is refused until that CA is added.

#![allow(clippy::unwrap_used)]

use async_s3::{Client, Credentials, ErrorKind, ProxyConfig};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A CA and a server certificate for `localhost` signed by it.
fn certs() -> (
    String,
    rustls_pki::CertificateDer<'static>,
    rustls_pki::PrivateKeyDer<'static>,
) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (
        ca.pem(),
        cert.der().clone(),
        rustls_pki::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

use tokio_rustls::rustls::pki_types as rustls_pki;

/// Serves HTTPS on 127.0.0.1: every request gets `200` with an empty body.
async fn tls_server() -> (u16, String) {
    let (ca_pem, cert, key) = certs();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = vec![0u8; 16384];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-amz-bucket-region: us-east-1\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, ca_pem)
}

/// TEST-PLAN X4
#[tokio::test]
async fn unknown_ca_fails_until_it_is_trusted() {
    let (port, ca_pem) = tls_server().await;
    let endpoint = format!("https://localhost:{port}");
    let untrusting = Client::builder()
        .endpoint(&endpoint)
        .credentials(Credentials::new("AKID", "secret"))
        .proxy(ProxyConfig::None)
        .build()
        .unwrap();
    let err = untrusting.head_bucket("bkt").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    let chain = format!("{:?}", std::error::Error::source(&err));
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");

    let trusting = Client::builder()
        .endpoint(&endpoint)
        .credentials(Credentials::new("AKID", "secret"))
        .add_root_certificate(ca_pem.into_bytes())
        .proxy(ProxyConfig::None)
        .build()
        .unwrap();
    let region = trusting.head_bucket("bkt").await.unwrap();
    assert_eq!(region.as_deref(), Some("us-east-1"));
}

#[test]
fn a_bad_root_certificate_is_refused_at_build() {
    let err = Client::builder()
        .endpoint("https://localhost:1")
        .credentials(Credentials::new("AKID", "secret"))
        .add_root_certificate(b"not a certificate".to_vec())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}
