//! Integer literals beyond 64 bits: the JSON parser reads them as the
//! nearest float, so the decoder notes wide whole-number floats and, only
//! then, scans the record's text for such literals to refuse it.

use super::{DecodeError, OUT_OF_RANGE};

/// Whole-number floats from this magnitude up may be integer literals the
/// parser rounded: 2^53, past which not every integer is a float.
const WIDE: f64 = 9_007_199_254_740_992.0;

pub(super) fn note_float(wide_float: &mut bool, value: f64) {
    if value.abs() >= WIDE && value.fract() == 0.0 {
        *wide_float = true;
    }
}

/// Refuses an object holding an integer literal beyond the 64-bit integers
/// (signed below zero, unsigned above), at any depth: the parser reads it as
/// the nearest float, which would change its last digits silently. Only run
/// when such a float was seen, so ordinary events never pay for the scan.
pub(super) fn check_wide_integers(json: &str) -> Result<(), DecodeError> {
    let bytes = json.as_bytes();
    let mut at = 0;
    let mut in_string = false;
    while at < bytes.len() {
        let byte = bytes[at];
        if in_string {
            match byte {
                b'\\' => at += 1,
                b'"' => in_string = false,
                _ => {}
            }
            at += 1;
            continue;
        }
        if byte == b'"' {
            in_string = true;
            at += 1;
            continue;
        }
        if byte == b'-' || byte.is_ascii_digit() {
            let start = at;
            at += 1;
            while at < bytes.len()
                && matches!(bytes[at], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
            {
                at += 1;
            }
            let literal = &json[start..at];
            let integral = !literal.contains(['.', 'e', 'E']);
            let fits = if literal.starts_with('-') {
                literal.parse::<i64>().is_ok()
            } else {
                literal.parse::<u64>().is_ok()
            };
            if integral && !fits {
                return Err(DecodeError {
                    code: "number-out-of-range",
                    reason: format!("the integer {literal} {OUT_OF_RANGE}"),
                });
            }
            continue;
        }
        at += 1;
    }
    Ok(())
}
