//! The manual multipart API: create an upload, send parts concurrently from several tasks,
//! list them, then complete (or abort on failure).
//!
//! ```text
//! cargo run --example manual_multipart
//! ```
//!
//! Uses the in-process S3 server unless `AWS_ENDPOINT_URL[_S3]` is set (settings as for every
//! example, see the README). The object it writes, `async-s3-examples/manual.bin`, is deleted
//! at the end, whatever happened, and an upload that fails before it completes is aborted.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/s3_server.rs"]
mod s3_server;
#[path = "support/mod.rs"]
mod support;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, bucket) = support::connect("manual").await?;
    let result = run(&bucket).await;
    support::remove(&bucket, KEY).await;
    result
}

/// The example's own object.
const KEY: &str = "async-s3-examples/manual.bin";

async fn run(bucket: &async_s3::Bucket) -> Result<(), Box<dyn std::error::Error>> {
    let upload = bucket
        .create_multipart_upload(KEY)
        .content_type("application/octet-stream")
        .await?;
    println!("created upload {}", upload.upload_id());
    // Whatever fails before the upload completes, it is aborted: its parts are stored (and
    // billed) until then.
    if let Err(e) = send_parts_and_complete(&upload).await {
        match upload.abort().await {
            Ok(_) => eprintln!("aborted upload {}", upload.upload_id()),
            Err(abort) => eprintln!("could not abort upload {}: {abort}", upload.upload_id()),
        }
        return Err(e);
    }
    let size = bucket.head_object(KEY).await?.size;
    println!("object size {size} bytes");
    assert_eq!(size, 3 * (5 << 20) + 1000);
    Ok(())
}

/// Three parts of 5 MiB (the minimum except for the last) and a short last one, sent from
/// four tasks; then the list of parts and the completion.
async fn send_parts_and_complete(
    upload: &async_s3::MultipartUpload,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut tasks = Vec::new();
    for n in 1..=4u32 {
        let upload = upload.clone();
        let len = if n == 4 { 1000 } else { 5 << 20 };
        tasks.push(tokio::spawn(async move {
            upload.upload_part(n, vec![n as u8; len]).await
        }));
    }
    let mut failed = None;
    for t in tasks {
        match t.await? {
            Ok(part) => println!("uploaded part {} (etag {})", part.part_number, part.etag),
            Err(e) => failed = Some(e),
        }
    }
    if let Some(e) = failed {
        return Err(e.into());
    }
    println!("the store lists {} parts", upload.list_parts().await?.len());
    let done = upload.complete().await?;
    println!("completed: etag {}", done.etag.as_deref().unwrap_or("-"));
    Ok(())
}
