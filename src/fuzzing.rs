//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, not a public API).
//!
//! Each function runs one parser on arbitrary input and discards the result: a fuzz target
//! passes when none of them panics, loops or allocates without bound.

use crate::xml;

/// Every XML response parser.
pub fn xml_documents(data: &[u8]) {
    let _ = xml::is_error_document(data);
    let _ = xml::parse_error(data);
    let _ = xml::parse_list_objects_v2(data);
    let body = bytes::Bytes::copy_from_slice(data);
    let _ = xml::scan_list_objects_v2(&body);
    let _ = xml::scan_list_versions(&body);
    let _ = xml::parse_list_buckets(data);
    let _ = xml::parse_delete_result(data);
    let _ = xml::parse_copy_object_result(data);
    let _ = xml::parse_initiate_multipart(data);
    let _ = xml::parse_complete_multipart(data);
    let _ = xml::parse_list_parts(data);
    let _ = xml::parse_location_constraint(data);
    let _ = xml::parse_assume_role_with_web_identity(data);
    let _ = xml::parse_sts_error(data);
}

/// The listing scanner against the full parsers it stands in for: on every ListObjectsV2 or
/// ListObjectVersions page the scanner accepts, it must give exactly the full parser's page.
///
/// # Panics
///
/// When they differ (the fuzzer's finding), with both results.
pub fn list_scan(data: &[u8]) {
    if let Err(difference) = xml::check_scan(&bytes::Bytes::copy_from_slice(data)) {
        panic!("the listing scanner differs from the full parser: {difference}");
    }
}

/// Response header parsers: `Content-Range`, HTTP dates, checksum and ETag handling.
pub fn headers(text: &str) {
    if let Some(cr) = crate::ContentRange::parse(text) {
        assert!(cr.start <= cr.end);
        assert!(cr.total.is_none_or(|t| cr.end < t));
    }
    let _ = crate::headers::http_date(text);
    let mut h = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(text) {
        for name in [
            "etag",
            "content-length",
            "x-amz-checksum-crc32c",
            "last-modified",
        ] {
            h.insert(name, v.clone());
        }
        let _ = crate::ops::meta::ObjectMeta::from_headers(&h);
    }
}

/// The shared config and credentials files: `data` split at its first NUL into the two
/// files' texts (read as UTF-8 with replacement, as the provider does).
pub fn profile_files(data: &[u8]) {
    let (config, credentials) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    crate::credentials::fuzz::shared_files(
        &String::from_utf8_lossy(config),
        &String::from_utf8_lossy(credentials),
    );
}

/// The credential providers' JSON parsers (credential_process, container, instance metadata)
/// and the instance-metadata role listing.
pub fn credentials_json(data: &[u8]) {
    crate::credentials::fuzz::credentials_json(data);
}

/// The key-to-path mapping of prefix downloads: a mapped path never leaves the directory.
pub fn key_to_path(prefix: &str, key: &str) {
    if let Ok(Some(p)) = crate::transfer::key_to_relative_path(prefix, key) {
        assert!(p.is_relative());
        assert!(
            p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        );
    }
}
