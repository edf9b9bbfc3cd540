//! JSON text, written by hand: string literals with only the escapes JSON
//! needs, integers and floats in their shortest exact form. The decoder
//! and the encoders share these.

/// Append `s` to `out` as a JSON string literal, quotes included.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    write_json_string_bytes(out, s.as_bytes());
}

/// Append UTF-8 `bytes` as a JSON string literal. Only ASCII bytes need
/// escaping, so the text is copied as bytes, never re-validated.
pub fn write_json_string_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    // Most strings need no escaping: check them in one pass the compiler
    // vectorises, and copy them whole.
    if bytes.iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..at]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
                start = at + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(escape);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Append a finite float as JSON (`1.5`, `10.0`, `1e21`); non-finite values,
/// which JSON cannot hold, as `null`.
pub fn write_json_f64(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Append an integer as JSON.
pub fn write_json_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}
