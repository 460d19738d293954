//! The `s3` binary (feature `cli`, issue 14) run as a process against the in-process server:
//! cp both ways (one object, 40 MiB multipart, a directory), ls, sync twice, rm --recursive,
//! presign then fetch, and the exit codes (2 for usage, 1 naming a missing key).

#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Output;
use support::fault::{FaultServer, Reply};
use support::sigcheck::assert_signed;
use support::{ACCESS_KEY, Env, SECRET_KEY, data};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs `s3 <args>` against the server: keys and region from the environment, which holds
/// nothing else (no ~/.aws: HOME is an empty directory; no instance metadata).
async fn s3(e: &Env, home: &Path, args: &[&str]) -> Output {
    s3_at(&e.server.endpoint(), (ACCESS_KEY, SECRET_KEY), home, args).await
}

/// Runs `s3 <args>` against `endpoint` with the keys `(access, secret)`.
async fn s3_at(endpoint: &str, keys: (&str, &str), home: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_s3"))
        .env_clear()
        .env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", keys.0)
        .env("AWS_SECRET_ACCESS_KEY", keys.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .arg("--endpoint-url")
        .arg(endpoint)
        .args(args)
        .output()
        .await
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts exit code 0 and returns stdout.
fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

async fn get(e: &Env, key: &str) -> Vec<u8> {
    e.bucket.download(key).to_bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn cp_one_object_both_ways_then_cat_and_stat() {
    let e = support::env("cli-one").await;
    let dir = tempfile::tempdir().unwrap();
    let body = data(1000, 1);
    let file = dir.path().join("hello.bin");
    std::fs::write(&file, &body).unwrap();

    // A key ending in / takes the file's name.
    let out = ok(&s3(&e, dir.path(), &["cp", p(&file), "s3://cli-one/in/"]).await);
    assert_eq!(
        out,
        format!("upload: {} to s3://cli-one/in/hello.bin\n", file.display())
    );
    assert_eq!(get(&e, "in/hello.bin").await, body);

    // An existing directory takes the object's name.
    let down = dir.path().join("down");
    std::fs::create_dir(&down).unwrap();
    ok(&s3(
        &e,
        dir.path(),
        &["cp", "s3://cli-one/in/hello.bin", p(&down)],
    )
    .await);
    assert_eq!(std::fs::read(down.join("hello.bin")).unwrap(), body);

    let cat = s3(&e, dir.path(), &["cat", "s3://cli-one/in/hello.bin"]).await;
    assert_eq!(cat.status.code(), Some(0));
    assert_eq!(cat.stdout, body);

    let stat = ok(&s3(
        &e,
        dir.path(),
        &["stat", "--json", "s3://cli-one/in/hello.bin"],
    )
    .await);
    let v: serde_json::Value = serde_json::from_str(&stat).unwrap();
    assert_eq!(v["size"], 1000);
    assert_eq!(v["url"], "s3://cli-one/in/hello.bin");
    assert!(v["last_modified"].as_str().unwrap().ends_with('Z'), "{v}");
}

#[tokio::test]
async fn cp_40_mib_multipart_both_ways() {
    let e = support::env("cli-big").await;
    let dir = tempfile::tempdir().unwrap();
    let body = data(40 << 20, 2);
    let file = dir.path().join("big.bin");
    std::fs::write(&file, &body).unwrap();

    // 10 MiB parts, not the default 8 MiB, so that the option is seen to reach the engine.
    let args = [
        "--part-size",
        "10M",
        "--concurrency",
        "4",
        "cp",
        p(&file),
        "s3://cli-big/big.bin",
    ];
    ok(&s3(&e, dir.path(), &args).await);
    let head = e.bucket.head_object("big.bin").await.unwrap();
    assert_eq!(head.size, 40 << 20);
    // A multipart object's entity tag ends in -<parts>: 40 MiB in 10 MiB parts is 4.
    assert!(
        head.etag
            .as_deref()
            .unwrap()
            .trim_matches('"')
            .ends_with("-4"),
        "{:?}",
        head.etag
    );

    let back = dir.path().join("back.bin");
    ok(&s3(
        &e,
        dir.path(),
        &["--part-size", "8M", "cp", "s3://cli-big/big.bin", p(&back)],
    )
    .await);
    assert!(
        std::fs::read(&back).unwrap() == body,
        "the download differs"
    );
}

/// A tree: a.txt, sub/b.txt, sub/deeper/c.txt.
fn tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::write(root.join("a.txt"), "alpha").unwrap();
    std::fs::write(root.join("sub/b.txt"), "bravo!").unwrap();
    std::fs::write(root.join("sub/deeper/c.txt"), data(3000, 3)).unwrap();
}

#[tokio::test]
async fn cp_a_directory_both_ways_and_ls() {
    let e = support::env("cli-dir").await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    tree(&src);

    let out = ok(&s3(
        &e,
        dir.path(),
        &["cp", "--recursive", p(&src), "s3://cli-dir/t"],
    )
    .await);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("upload: ")).count(),
        3,
        "{out}"
    );

    let listing = ok(&s3(
        &e,
        dir.path(),
        &["ls", "--recursive", "--json", "s3://cli-dir/t/"],
    )
    .await);
    let keys: Vec<(String, u64)> = listing
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_owned(),
                v["size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("t/a.txt".into(), 5),
            ("t/sub/b.txt".into(), 6),
            ("t/sub/deeper/c.txt".into(), 3000)
        ]
    );

    // One level: the object and the prefix, named below the prefix as the AWS CLI does.
    let plain = ok(&s3(&e, dir.path(), &["ls", "s3://cli-dir/t/"]).await);
    let lines: Vec<&str> = plain.lines().collect();
    assert_eq!(lines.len(), 2, "{plain}");
    assert!(
        lines.iter().any(|l| l.ends_with("         5 a.txt")),
        "{plain}"
    );
    assert!(
        lines.iter().any(|l| l.trim_start() == "PRE sub/"),
        "{plain}"
    );
    let buckets = ok(&s3(&e, dir.path(), &["ls"]).await);
    assert!(
        buckets.lines().any(|l| l.ends_with(" cli-dir")),
        "{buckets}"
    );

    let back = dir.path().join("back");
    ok(&s3(&e, dir.path(), &["cp", "-r", "s3://cli-dir/t", p(&back)]).await);
    for rel in ["a.txt", "sub/b.txt", "sub/deeper/c.txt"] {
        assert_eq!(
            std::fs::read(back.join(rel)).unwrap(),
            std::fs::read(src.join(rel)).unwrap(),
            "{rel}"
        );
    }
}

#[tokio::test]
async fn sync_twice_copies_nothing_the_second_time() {
    let e = support::env("cli-sync").await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    tree(&src);

    let first = ok(&s3(&e, dir.path(), &["sync", p(&src), "s3://cli-sync/s"]).await);
    assert_eq!(
        first.lines().filter(|l| l.starts_with("upload: ")).count(),
        3,
        "{first}"
    );
    let second = ok(&s3(&e, dir.path(), &["sync", p(&src), "s3://cli-sync/s"]).await);
    assert_eq!(second, "", "the second sync copied again");

    // A changed size is copied again; --delete removes what the source no longer has.
    std::fs::write(src.join("a.txt"), "alpha, longer").unwrap();
    std::fs::remove_file(src.join("sub/b.txt")).unwrap();
    let third = ok(&s3(
        &e,
        dir.path(),
        &["sync", "--delete", p(&src), "s3://cli-sync/s"],
    )
    .await);
    let mut lines: Vec<&str> = third.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "delete: s3://cli-sync/s/sub/b.txt".to_owned(),
            format!(
                "upload: {} to s3://cli-sync/s/a.txt",
                src.join("a.txt").display()
            )
        ]
    );

    // Down, twice.
    let down = dir.path().join("down");
    let first = ok(&s3(&e, dir.path(), &["sync", "s3://cli-sync/s", p(&down)]).await);
    assert_eq!(
        first
            .lines()
            .filter(|l| l.starts_with("download: "))
            .count(),
        2,
        "{first}"
    );
    assert_eq!(std::fs::read(down.join("a.txt")).unwrap(), b"alpha, longer");
    let second = ok(&s3(&e, dir.path(), &["sync", "s3://cli-sync/s", p(&down)]).await);
    assert_eq!(second, "", "the second sync copied again");
    // A downloaded file takes its object's date, so syncing it back copies nothing either.
    let back = ok(&s3(&e, dir.path(), &["sync", p(&down), "s3://cli-sync/s"]).await);
    assert_eq!(back, "", "syncing a download back copied it again");
}

#[tokio::test]
async fn rm_recursive_deletes_the_prefix_only() {
    let e = support::env("cli-rm").await;
    let dir = tempfile::tempdir().unwrap();
    for k in ["logs/1", "logs/2", "logs/deep/3", "logsbook", "other"] {
        e.bucket.put_object(k, "x").await.unwrap();
    }
    let out = ok(&s3(&e, dir.path(), &["rm", "--recursive", "s3://cli-rm/logs"]).await);
    assert_eq!(out, "delete: 3 objects under s3://cli-rm/logs/\n");
    let left = ok(&s3(&e, dir.path(), &["ls", "--recursive", "s3://cli-rm"]).await);
    let keys: Vec<&str> = left
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(keys, ["logsbook", "other"]);
}

/// A plain HTTP/1.1 request to a presigned URL on the loopback server: (status, body).
async fn fetch(url: &str, method: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, target) = rest.split_at(rest.find('/').unwrap());
    let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = std::str::from_utf8(&answer[9..12])
        .unwrap()
        .parse()
        .unwrap();
    (status, answer[split + 4..].to_vec())
}

#[tokio::test]
async fn presign_then_fetch_the_url() {
    let e = support::env("cli-presign").await;
    let dir = tempfile::tempdir().unwrap();
    e.bucket.put_object("shared/cat.txt", "meow").await.unwrap();

    let url = ok(&s3(
        &e,
        dir.path(),
        &[
            "presign",
            "--expires-in",
            "300",
            "s3://cli-presign/shared/cat.txt",
        ],
    )
    .await);
    let url = url.trim_end();
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    assert_eq!(fetch(url, "GET", b"").await, (200, b"meow".to_vec()));

    let put = ok(&s3(
        &e,
        dir.path(),
        &["presign", "--method", "put", "s3://cli-presign/up.txt"],
    )
    .await);
    let (status, _) = fetch(put.trim_end(), "PUT", b"uploaded").await;
    assert_eq!(status, 200);
    assert_eq!(get(&e, "up.txt").await, b"uploaded");
}

#[tokio::test]
async fn bad_usage_exits_2_with_one_line() {
    let e = support::env("cli-usage").await;
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["cp", "only-a-source"][..],
        &["ls", "--no-such-flag"],
        &["ls", "not-a-url"],
        &["cp", "a", "b"],
        &["--part-size", "8X", "ls"],
        &["--max-bandwidth", "fast", "ls"],
        &["--max-bandwidth", "10MB/min", "ls"],
        &["--max-bandwidth", "0", "ls"],
    ] {
        let o = s3(&e, dir.path(), args).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("s3: ") && err.ends_with("(see s3 --help)\n"),
            "{args:?}: {err}"
        );
        assert_eq!(stdout(&o), "", "{args:?}");
    }
}

/// `--max-bandwidth 256KB/s` (the AWS CLI's form, KB = 1024 bytes) caps the client: 512 KiB
/// cannot go up in less than (512 - 64) / 256 s (the cap allows one 64 KiB piece ahead).
#[tokio::test]
async fn max_bandwidth_caps_the_transfer() {
    let e = support::env("cli-bandwidth").await;
    let dir = tempfile::tempdir().unwrap();
    let body = data(512 << 10, 7);
    let file = dir.path().join("capped.bin");
    std::fs::write(&file, &body).unwrap();
    let started = std::time::Instant::now();
    ok(&s3(
        &e,
        dir.path(),
        &[
            "--max-bandwidth",
            "256KB/s",
            "cp",
            p(&file),
            "s3://cli-bandwidth/capped.bin",
        ],
    )
    .await);
    let took = started.elapsed();
    assert!(took >= std::time::Duration::from_millis(1700), "{took:?}");
    assert_eq!(get(&e, "capped.bin").await, body);
}

#[tokio::test]
async fn a_missing_key_exits_1_naming_it() {
    let e = support::env("cli-missing").await;
    let dir = tempfile::tempdir().unwrap();
    let o = s3(
        &e,
        dir.path(),
        &["cp", "s3://cli-missing/no/such.txt", p(dir.path())],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("s3://cli-missing/no/such.txt"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("such.txt").exists());

    let o = s3(&e, dir.path(), &["stat", "s3://cli-missing/gone"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("s3://cli-missing/gone"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn sync_include_exclude_and_dryrun() {
    let e = support::env("cli-filter").await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    tree(&src);

    // The library's patterns: a file is taken when an --include matches and no --exclude.
    let filters = ["--include", "*.txt", "--exclude", "sub/deeper/*"];
    let mut args = vec!["sync"];
    args.extend(filters);
    args.extend([p(&src), "s3://cli-filter/f"]);
    ok(&s3(&e, dir.path(), &args).await);
    let listing = ok(&s3(&e, dir.path(), &["ls", "-r", "s3://cli-filter/f/"]).await);
    let keys: Vec<&str> = listing
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(keys, ["f/a.txt", "f/sub/b.txt"]);

    std::fs::write(src.join("new.bin"), "new").unwrap();
    let args = [
        "sync",
        "--dryrun",
        "--exclude",
        "*.txt",
        p(&src),
        "s3://cli-filter/f",
    ];
    let dry = ok(&s3(&e, dir.path(), &args).await);
    assert_eq!(
        dry,
        format!(
            "(dryrun) upload: {} to s3://cli-filter/f/new.bin\n",
            src.join("new.bin").display()
        )
    );
    let after = ok(&s3(&e, dir.path(), &["ls", "-r", "s3://cli-filter/f/"]).await);
    assert_eq!(after, listing, "a dry run changed the bucket");
}

#[tokio::test]
async fn mv_mb_and_rb() {
    let e = support::env("cli-mv").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("moving.txt");
    std::fs::write(&file, "on the move").unwrap();

    ok(&s3(&e, dir.path(), &["mb", "s3://cli-mv-two"]).await);
    let out = ok(&s3(&e, dir.path(), &["mv", p(&file), "s3://cli-mv/m.txt"]).await);
    assert!(out.starts_with("move: "), "{out}");
    assert!(!file.exists(), "mv left the local file");
    // Server-side, across buckets.
    ok(&s3(
        &e,
        dir.path(),
        &["mv", "s3://cli-mv/m.txt", "s3://cli-mv-two/"],
    )
    .await);
    assert_eq!(
        e.client
            .bucket("cli-mv-two")
            .download("m.txt")
            .to_bytes()
            .await
            .unwrap(),
        "on the move"
    );
    let gone = e.bucket.head_object("m.txt").await.unwrap_err();
    assert_eq!(gone.kind(), async_s3::ErrorKind::NotFound);

    // (s3s-fs deletes a bucket that still holds objects, without BucketNotEmpty, so the
    // refusal of a plain rb is not seen here.) A bucket that does not exist is named.
    let missing = s3(&e, dir.path(), &["rb", "s3://cli-mv-none"]).await;
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("s3://cli-mv-none"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(
        ok(&s3(&e, dir.path(), &["rb", "--force", "s3://cli-mv-two"]).await),
        "remove_bucket: cli-mv-two\n"
    );
    let buckets = ok(&s3(&e, dir.path(), &["ls"]).await);
    assert!(!buckets.contains("cli-mv-two"), "{buckets}");
}

#[tokio::test]
async fn profile_reads_the_shared_files() {
    let e = support::env("cli-profile").await;
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!("[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = wrong\n\n[dev]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile dev]\nregion = us-east-1\n",
    )
    .unwrap();
    e.bucket.put_object("k", "v").await.unwrap();
    let run = |profile: Option<&'static str>| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_s3"));
        // AWS_PROFILE names a profile that does not exist: --profile wins over it.
        c.env_clear()
            .env("HOME", home.path())
            .env("AWS_PROFILE", "nosuch")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .arg("--endpoint-url")
            .arg(e.server.endpoint());
        if let Some(name) = profile {
            c.args(["--profile", name]);
        }
        c.args(["ls", "s3://cli-profile"]);
        c
    };
    // The default profile's keys are wrong; --profile dev takes the right ones and its region.
    let wrong = run(None).output().await.unwrap();
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    let right = run(Some("dev")).output().await.unwrap();
    assert!(ok(&right).ends_with(" k\n"), "{}", stdout(&right));
}

/// The ListObjectVersions reference's example answer, owners shortened (as in
/// tests/versioning.rs: s3s-fs answers 501 to versioning requests).
const VERSIONS_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
    <Name>bucket</Name>
    <Prefix>my</Prefix>
    <KeyMarker/>
    <VersionIdMarker/>
    <MaxKeys>5</MaxKeys>
    <IsTruncated>false</IsTruncated>
    <Version>
        <Key>my-image.jpg</Key>
        <VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId>
        <IsLatest>true</IsLatest>
         <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner><ID>75aa57f0</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>
    </Version>
    <DeleteMarker>
        <Key>my-second-image.jpg</Key>
        <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>
        <IsLatest>true</IsLatest>
        <LastModified>2009-11-12T17:50:30.000Z</LastModified>
        <Owner><ID>75aa57f0</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>
    </DeleteMarker>
    <Version>
        <Key>my-second-image.jpg</Key>
        <VersionId>QUpfdndhfd8438MNFDN93jdnJFkdmqnh893</VersionId>
        <IsLatest>false</IsLatest>
        <LastModified>2009-10-10T17:50:30.000Z</LastModified>
        <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
        <Size>166434</Size>
        <StorageClass>STANDARD</StorageClass>
    </Version>
</ListVersionsResult>"#;

#[tokio::test]
async fn ls_versions_against_the_scripted_server() {
    let xml = || Reply::new(200, "application/xml", VERSIONS_EXAMPLE.as_bytes().to_vec());
    let server = FaultServer::start(vec![xml(), xml()]).await;
    let home = tempfile::tempdir().unwrap();
    let keys = ("AKIDTEST", "secret");
    let out = ok(&s3_at(
        &server.endpoint(),
        keys,
        home.path(),
        &["ls", "--versions", "s3://bkt/my"],
    )
    .await);
    assert_eq!(
        out,
        "2009-10-12 17:50:30     434234 my-image.jpg 3/L4kqtJl40Nr8X8gdRQBpUMLUo (latest)\n\
         2009-11-12 17:50:30     DELETE my-second-image.jpg 03jpff543dhffds434rfdsFDN943fdsFkdmqnh892 (latest)\n\
         2009-10-10 17:50:30     166434 my-second-image.jpg QUpfdndhfd8438MNFDN93jdnJFkdmqnh893\n"
    );
    let args = ["ls", "--versions", "--recursive", "--json", "s3://bkt/my"];
    let json = ok(&s3_at(&server.endpoint(), keys, home.path(), &args).await);
    let marker: serde_json::Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
    assert_eq!(
        marker,
        serde_json::json!({
            "key": "my-second-image.jpg",
            "version_id": "03jpff543dhffds434rfdsFDN943fdsFkdmqnh892",
            "is_latest": true,
            "delete_marker": true,
            "last_modified": "2009-11-12T17:50:30Z",
        })
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].target.as_str()),
        (
            "GET",
            "/bkt?delimiter=%2F&encoding-type=url&prefix=my&versions="
        )
    );
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].target.as_str()),
        ("GET", "/bkt?encoding-type=url&prefix=my&versions=")
    );
    for r in &reqs {
        assert_signed(r, "AKIDTEST", "secret");
    }
}

#[tokio::test]
async fn ctrl_c_aborts_the_multipart_upload_and_exits_130() {
    ctrl_c_aborts(false).await;
}

/// With --profile (once done by the tool running itself again, now by the library's
/// `ClientBuilder::profile`), Ctrl-C sent to the whole process group as a terminal does must
/// still end in the abort and 130.
#[tokio::test]
async fn ctrl_c_with_profile_waits_for_the_abort() {
    ctrl_c_aborts(true).await;
}

async fn ctrl_c_aborts(profile: bool) {
    // CreateMultipartUpload answers (the API reference's example, our names); every part
    // hangs, so the upload is under way when the signal comes; the abort is answered 204.
    let initiate = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult \
        xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>bkt</Bucket><Key>big.bin</Key>\
        <UploadId>UP1</UploadId></InitiateMultipartUploadResult>";
    let server = FaultServer::with_handler(move |r, _| match r.method.as_str() {
        "POST" if r.target.ends_with("?uploads=") => Reply::new(200, "application/xml", initiate),
        "PUT" => Reply::Delay(
            std::time::Duration::from_secs(60),
            Box::new(Reply::new(200, "text/plain", "")),
        ),
        "DELETE" => Reply::new(204, "text/plain", ""),
        _ => Reply::s3_error(400, "Unexpected"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    std::fs::write(&file, data(20 << 20, 4)).unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_s3"));
    command
        .env_clear()
        .env("HOME", dir.path())
        .env("AWS_REGION", "us-east-1");
    if profile {
        std::fs::create_dir(dir.path().join(".aws")).unwrap();
        let keys = "[dev]\naws_access_key_id = AKIDTEST\naws_secret_access_key = secret\n";
        std::fs::write(dir.path().join(".aws/credentials"), keys).unwrap();
        command.args(["--profile", "dev"]);
    } else {
        command
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret");
    }
    let child = command
        .process_group(0)
        .args([
            "--endpoint-url",
            &server.endpoint(),
            "--part-size",
            "5M",
            "--concurrency",
            "2",
        ])
        .args(["cp", p(&file), "s3://bkt/big.bin"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let parts_sent = || {
        server
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count()
    };
    for _ in 0..1000 {
        if parts_sent() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(parts_sent(), 2, "the parts never arrived");
    let pid = child.id().unwrap().to_string();
    // The whole group, as a terminal's Ctrl-C.
    let kill = std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the tool did not stop")
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    let reqs = server.requests();
    let aborts: Vec<_> = reqs.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(aborts.len(), 1, "{reqs:?}");
    assert_eq!(aborts[0].target, "/bkt/big.bin?uploadId=UP1");
    // (The parts go aws-chunked over http, which the signature check does not replay.)
    for r in reqs.iter().filter(|r| r.method != "PUT") {
        assert_signed(r, "AKIDTEST", "secret");
    }
}
