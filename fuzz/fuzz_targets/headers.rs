//! Content-Range, HTTP dates and object metadata headers on arbitrary text.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        async_s3::fuzzing::headers(text);
    }
});
