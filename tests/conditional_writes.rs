//! Conditional writes: `If-None-Match: *` and `If-Match` on CompleteMultipartUpload and in the
//! upload engine (create-only uploads), 412 as `PreconditionFailed` (the multipart upload
//! aborted), 409 `ConditionalRequestConflict` as `ConditionalConflict` (retried on PutObject,
//! final on CompleteMultipartUpload: the upload aborted), against the
//! scripted server answering with the documented error documents.

#![allow(clippy::unwrap_used)]

mod support;

use async_s3::{Client, ErrorKind};
use support::fault::{FaultServer, Recorded, Reply};

fn client(server: &FaultServer) -> Client {
    support::fault_client_builder(server).build().unwrap()
}

/// The documented 412 answer of a failed write condition.
fn precondition_failed() -> Reply {
    Reply::new(
        412,
        "application/xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PreconditionFailed</Code>\
         <Message>At least one of the pre-conditions you specified did not hold</Message>\
         <Condition>If-None-Match</Condition><RequestId>3L137</RequestId>\
         <HostId>3L137/3L137</HostId></Error>",
    )
}

/// The documented 409 answer of two conditional writes at once.
fn conflict() -> Reply {
    Reply::new(
        409,
        "application/xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ConditionalRequestConflict</Code>\
         <Message>A conflicting operation occurred. If using PutObject you can retry the \
         request. If using multipart upload you should initiate another CreateMultipartUpload \
         request and re-upload each part.</Message><RequestId>3L138</RequestId></Error>",
    )
}

fn completed() -> Reply {
    Reply::new(
        200,
        "application/xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>http://bkt.s3.amazonaws.com/big</Location>\
         <Bucket>bkt</Bucket><Key>big</Key><ETag>\"3858f62230ac3c915f300c664312c11f-2\"</ETag>\
         </CompleteMultipartUploadResult>",
    )
}

/// A multipart server whose CompleteMultipartUpload answers with `complete`.
fn mpu(complete: Reply) -> impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static {
    move |r, _| match r.method.as_str() {
        "POST" if r.target.ends_with("?uploads=") => Reply::new(
            200,
            "application/xml",
            "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>big</Key>\
             <UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
        ),
        "PUT" => {
            Reply::new(200, "text/plain", "").header("etag", "\"0c78aef83f66abc1fa1e8477f296d394\"")
        }
        "POST" => complete.clone(),
        "DELETE" => Reply::new(204, "text/plain", ""),
        "GET" => Reply::new(
            200,
            "application/xml",
            "<ListPartsResult><Bucket>bkt</Bucket><Key>big</Key><UploadId>UP1</UploadId>\
             <IsTruncated>false</IsTruncated></ListPartsResult>",
        ),
        _ => Reply::s3_error(400, "Unexpected"),
    }
}

fn complete_request(server: &FaultServer) -> Recorded {
    server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.target.contains("uploadId"))
        .unwrap()
}

/// `completion().if_none_match_any()` sends `If-None-Match: *` with the completion only,
/// signed; `if_match` sends `If-Match`.
#[tokio::test]
async fn a_conditional_completion_sends_its_condition() {
    let server = FaultServer::with_handler(mpu(completed())).await;
    let c = client(&server);
    let upload = c
        .bucket("bkt")
        .create_multipart_upload("big")
        .await
        .unwrap();
    upload.upload_part(1, vec![1u8; 100]).await.unwrap();
    let out = upload.completion().if_none_match_any().await.unwrap();
    assert_eq!(
        out.etag.as_deref(),
        Some("\"3858f62230ac3c915f300c664312c11f-2\"")
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].header("if-none-match"), None);
    assert_eq!(reqs[1].header("if-none-match"), None);
    let complete = &reqs[2];
    assert_eq!(complete.target, "/bkt/big?uploadId=UP1");
    assert_eq!(complete.header("if-none-match"), Some("*"));
    let signed = support::sigcheck::assert_signed(complete, "AKIDTEST", "secret");
    assert!(
        signed.iter().any(|h| h == "if-none-match"),
        "the condition is signed: {signed:?}"
    );
    assert!(
        String::from_utf8(complete.body.clone())
            .unwrap()
            .contains("<PartNumber>1</PartNumber>")
    );

    let server = FaultServer::with_handler(mpu(completed())).await;
    let upload = client(&server).bucket("bkt").multipart_upload("big", "UP1");
    upload
        .completion()
        .parts(vec![async_s3::PartInfo::new(1, "\"e1\"")])
        .if_match("\"old-etag\"")
        .await
        .unwrap();
    let complete = complete_request(&server);
    assert_eq!(complete.header("if-match"), Some("\"old-etag\""));
    assert_eq!(complete.header("if-none-match"), None);
}

/// A 412 on the completion is `PreconditionFailed`, not retried.
#[tokio::test]
async fn a_failed_completion_condition_is_precondition_failed() {
    let server = FaultServer::with_handler(mpu(precondition_failed())).await;
    let upload = client(&server).bucket("bkt").multipart_upload("big", "UP1");
    let err = upload
        .completion()
        .parts(vec![async_s3::PartInfo::new(1, "\"e1\"")])
        .if_none_match_any()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.upload_id(), Some("UP1"));
}

/// The upload engine's create-only upload: a single PutObject carries `If-None-Match: *`.
#[tokio::test]
async fn a_create_only_single_upload_puts_with_if_none_match() {
    let server = FaultServer::start(vec![precondition_failed()]).await;
    let err = client(&server)
        .bucket("bkt")
        .upload("small")
        .if_none_match_any()
        .from_bytes(vec![1u8; 10])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "PUT");
    assert_eq!(reqs[0].header("if-none-match"), Some("*"));
}

/// The upload engine's create-only multipart upload: only the completion carries the
/// condition; when it fails the upload is aborted and the 412 comes back.
#[tokio::test]
async fn a_create_only_multipart_upload_is_aborted_on_412() {
    let server = FaultServer::with_handler(mpu(precondition_failed())).await;
    let err = client(&server)
        .bucket("bkt")
        .upload("big")
        .if_none_match_any()
        .multipart_threshold(5 << 20)
        .part_size(5 << 20)
        .from_bytes(vec![1u8; 6 << 20])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err}");
    assert_eq!(err.upload_id(), Some("UP1"));
    let reqs = server.requests();
    let with_condition: Vec<&str> = reqs
        .iter()
        .filter(|r| r.header("if-none-match").is_some())
        .map(|r| r.target.as_str())
        .collect();
    assert_eq!(with_condition, ["/bkt/big?uploadId=UP1"]);
    let aborts = reqs.iter().filter(|r| r.method == "DELETE").count();
    assert_eq!(aborts, 1, "the upload is aborted");

    // `if_match` goes the same way.
    let server = FaultServer::with_handler(mpu(completed())).await;
    client(&server)
        .bucket("bkt")
        .upload("big")
        .if_match("\"v1\"")
        .multipart_threshold(5 << 20)
        .part_size(5 << 20)
        .from_bytes(vec![1u8; 6 << 20])
        .await
        .unwrap();
    assert_eq!(complete_request(&server).header("if-match"), Some("\"v1\""));
}

/// 409 ConditionalRequestConflict is its own kind, retry-safe: the client tries again, and
/// when the conflict persists the error says so.
#[tokio::test]
async fn a_conditional_conflict_is_its_own_retried_kind() {
    let server = FaultServer::start(vec![conflict(), Reply::new(200, "text/plain", "")]).await;
    let c = client(&server);
    c.bucket("bkt")
        .put_object("k", "v")
        .if_none_match_any()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2, "retried once, then written");

    let server = FaultServer::start(vec![conflict()]).await;
    let err = client(&server)
        .bucket("bkt")
        .put_object("k", "v")
        .if_none_match_any()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConditionalConflict, "{err}");
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.s3_code(), Some("ConditionalRequestConflict"));
    assert_eq!(err.attempts(), 3);
}

/// A 409 `ConditionalRequestConflict` on CompleteMultipartUpload is final: S3 has dropped the
/// upload ("initiate another CreateMultipartUpload request and re-upload each part"), so the
/// completion is sent once, the error is not retryable, and the engine aborts the upload.
#[tokio::test]
async fn a_conflict_on_the_completion_is_final_and_the_upload_aborted() {
    let server = FaultServer::with_handler(mpu(conflict())).await;
    let err = client(&server)
        .bucket("bkt")
        .upload("big")
        .if_none_match_any()
        .multipart_threshold(5 << 20)
        .part_size(5 << 20)
        .from_bytes(vec![1u8; 6 << 20])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConditionalConflict, "{err}");
    assert!(!err.is_retryable(), "the upload is gone: start again");
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.operation(), "CompleteMultipartUpload");
    let reqs = server.requests();
    let completions = reqs
        .iter()
        .filter(|r| r.method == "POST" && r.target == "/bkt/big?uploadId=UP1")
        .count();
    assert_eq!(completions, 1, "the completion is not retried");
    let aborts: Vec<&str> = reqs
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.target.as_str())
        .collect();
    assert_eq!(aborts, ["/bkt/big?uploadId=UP1"], "the upload is aborted");

    // By hand, the same: one POST, not retryable.
    let server = FaultServer::with_handler(mpu(conflict())).await;
    let upload = client(&server).bucket("bkt").multipart_upload("big", "UP1");
    let err = upload
        .completion()
        .parts(vec![async_s3::PartInfo::new(1, "\"e1\"")])
        .if_none_match_any()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConditionalConflict, "{err}");
    assert!(!err.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

/// A completion whose first answer was lost, with a write condition: the retry finds the
/// object written by attempt 1 and answers 412 (the key now exists). The object under the key
/// is the one the parts make, so the completion succeeded; nothing is aborted.
#[tokio::test]
async fn a_lost_conditional_completion_answer_then_412_is_confirmed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // The parts' ETags make this multipart ETag: md5(md5 bytes of each part) + "-1".
    let part_md5 = "0c78aef83f66abc1fa1e8477f296d394";
    let expected = {
        use md5::{Digest, Md5};
        format!(
            "{}-1",
            hex::encode(Md5::digest(hex::decode(part_md5).unwrap()))
        )
    };
    let posts = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = posts.clone();
    let etag = format!("\"{expected}\"");
    let inner = mpu(precondition_failed());
    let server = FaultServer::with_handler(move |r: &Recorded, all: &[Recorded]| {
        match r.method.as_str() {
            "POST" if r.target.contains("uploadId") => {
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    // Attempt 1 completed the upload, but its answer is lost.
                    Reply::new(
                        500,
                        "application/xml",
                        "<Error><Code>InternalError</Code></Error>",
                    )
                } else {
                    precondition_failed()
                }
            }
            "HEAD" => Reply::new(200, "application/octet-stream", vec![0u8; 6 << 20])
                .header("etag", &etag),
            _ => inner(r, all),
        }
    })
    .await;
    let out = client(&server)
        .bucket("bkt")
        .upload("big")
        .if_none_match_any()
        .multipart_threshold(5 << 20)
        .part_size(6 << 20)
        .from_bytes(vec![1u8; 6 << 20])
        .await
        .unwrap();
    assert_eq!(
        out.etag.as_deref(),
        Some(format!("\"{expected}\"").as_str())
    );
    assert_eq!(posts.load(Ordering::SeqCst), 2);
    let reqs = server.requests();
    assert!(reqs.iter().all(|r| r.method != "DELETE"), "nothing aborted");
}
