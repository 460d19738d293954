//! The key-to-path mapping of prefix downloads: a mapped path never leaves the directory.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (prefix, key) = text.split_once('\n').unwrap_or(("", text));
        async_s3::fuzzing::key_to_path(prefix, key);
    }
});
