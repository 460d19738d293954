//! Every XML response parser on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| async_s3::fuzzing::xml_documents(data));
