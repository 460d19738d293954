//! The shared config and credentials files (INI): parsed, merged and read like the profile
//! provider does. Input: the config text, a NUL, the credentials text.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| async_s3::fuzzing::profile_files(data));
