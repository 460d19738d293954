//! The listing scanner against the full XML parser, on arbitrary bytes: identical pages.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| async_s3::fuzzing::list_scan(data));
