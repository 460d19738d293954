//! The credential providers' answers: credential_process output, the container and
//! instance-metadata JSON documents and error bodies, the instance-metadata role listing.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| async_s3::fuzzing::credentials_json(data));
