#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weir::tools::fuzzing::record_decoder(data));
