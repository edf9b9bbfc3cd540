//! A dead letter: one JSON line per rejected event, with the original
//! payload (as text when it is UTF-8, else as base64), who rejected it,
//! why, and where it came from.

use base64::Engine as _;

use crate::pipeline::batch::Rejection;
use crate::pipeline::encode::write_json_string;

/// Append the dead letter of a rejected event to `out` (without its newline).
pub(crate) fn write_dead_letter(
    out: &mut Vec<u8>,
    payload: &[u8],
    rejection: &Rejection,
    source: &str,
    position: &str,
    arrival: &str,
) {
    out.push(b'{');
    match std::str::from_utf8(payload) {
        Ok(text) => {
            out.extend_from_slice(b"\"payload\":");
            write_json_string(out, text);
            out.extend_from_slice(b",\"payload_base64\":null");
        }
        Err(_) => {
            out.extend_from_slice(b"\"payload\":null,\"payload_base64\":");
            let encoded = base64::engine::general_purpose::STANDARD.encode(payload);
            write_json_string(out, &encoded);
        }
    }
    for (key, value) in [
        ("plugin", &*rejection.stage.name),
        ("plugin_version", &*rejection.stage.version),
        ("code", &rejection.code),
        ("reason", &rejection.reason),
        ("source", source),
        ("position", position),
        ("arrival_time", arrival),
    ] {
        out.push(b',');
        write_json_string(out, key);
        out.push(b':');
        write_json_string(out, value);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::batch::Stage;

    fn dead_letter(payload: &[u8]) -> serde_json::Value {
        let rejection = Rejection {
            stage: Stage::host(),
            code: "bad-json".into(),
            reason: "not an object".into(),
        };
        let mut out = Vec::new();
        write_dead_letter(
            &mut out,
            payload,
            &rejection,
            "events.jsonl",
            "7",
            "2026-02-19T10:00:00Z",
        );
        serde_json::from_slice(&out).expect("a dead letter is one JSON object")
    }

    #[test]
    fn a_dead_letter_keeps_the_payload_and_says_why() {
        let letter = dead_letter(b"[1, \"two\"]");
        assert_eq!(letter["payload"], "[1, \"two\"]");
        assert!(letter["payload_base64"].is_null());
        assert_eq!(letter["plugin"], "weir");
        assert_eq!(letter["code"], "bad-json");
        assert_eq!(letter["reason"], "not an object");
        assert_eq!(letter["source"], "events.jsonl");
        assert_eq!(letter["position"], "7");
        assert_eq!(letter["arrival_time"], "2026-02-19T10:00:00Z");
    }

    #[test]
    fn a_payload_that_is_not_utf8_comes_back_byte_for_byte() {
        let payload = [0xff, 0xfe, b'{', 0x00, 0x80];
        let letter = dead_letter(&payload);
        assert!(letter["payload"].is_null());
        let encoded = letter["payload_base64"].as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(decoded, payload);
    }
}
