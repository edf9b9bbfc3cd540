#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weir::fuzzing::kinesis_event(data));
