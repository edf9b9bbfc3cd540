"""Tests of the filter's rules and layouts under plain CPython, no WebAssembly:

    python3 plugins/python-filter/test_filter.py

Batches are packed here the way the host packs them (wit/plugin.wit).
"""

import json
import os
import struct
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "src"))

from filter_core import ConfigError, Rules  # noqa: E402

CONFIG = '{"drop_user_prefixes": ["bot-", "test_"], "keep_actions": ["VIEW", "ADD_TO_CART", "PURCHASE"]}'


def pack_batch(objects):
    """(names, text, fields, events) for a list of JSON objects."""
    names, index, text = [], {}, bytearray()
    fields, events = bytearray(), bytearray()
    count = 0

    def span(data):
        start = len(text)
        text.extend(data)
        return start | len(data) << 32

    for obj in objects:
        events += struct.pack("<IIIIq", count, len(obj), 0, 0, 0)
        for name, value in obj.items():
            if name not in index:
                index[name] = len(names)
                names.append(name)
            if value is None:
                kind, payload = 0, 0
            elif value is False:
                kind, payload = 1, 0
            elif value is True:
                kind, payload = 2, 0
            elif isinstance(value, int):
                kind, payload = 3, value & (2**64 - 1)
            elif isinstance(value, float):
                kind, payload = 4, struct.unpack("<Q", struct.pack("<d", value))[0]
            elif isinstance(value, str):
                kind, payload = 5, span(value.encode())
            else:
                kind, payload = 6, span(json.dumps(value, separators=(",", ":")).encode())
            fields += struct.pack("<IB3xQ", index[name], kind, payload)
            count += 1
    return names, bytes(text), bytes(fields), bytes(events)


def kinds(rules, objects):
    out = rules.outcomes(*pack_batch(objects))
    assert len(out) == 20 * len(objects)
    words = [struct.unpack_from("<5I", out, 20 * i) for i in range(len(objects))]
    for word in words:
        assert word[0] in (0, 1) and word[1:] == (0, 0, 0, 0), word
    return ["keep" if word[0] == 0 else "drop" for word in words]


class ConfigTests(unittest.TestCase):
    def test_empty_config_keeps_everything(self):
        rules = Rules.from_json("{}")
        self.assertEqual(kinds(rules, [{"user_id": "bot-1"}, {}]), ["keep", "keep"])

    def test_unknown_key_is_named(self):
        with self.assertRaises(ConfigError) as caught:
            Rules.from_json('{"drop_users": ["u1"]}')
        self.assertIn("`drop_users`", str(caught.exception))

    def test_wrong_types(self):
        for config, key in [
            ('{"keep_actions": "VIEW"}', "keep_actions"),
            ('{"keep_actions": null}', "keep_actions"),
            ('{"drop_user_prefixes": ["bot-", 3]}', "drop_user_prefixes[1]"),
            ('{"drop_user_prefixes": ["bot-", " "]}', "drop_user_prefixes"),
        ]:
            with self.assertRaises(ConfigError) as caught:
                Rules.from_json(config)
            self.assertIn(key, str(caught.exception))
        for config in ["[]", "3", "not json"]:
            with self.assertRaises(ConfigError):
                Rules.from_json(config)


class OutcomeTests(unittest.TestCase):
    def test_rules(self):
        rules = Rules.from_json(CONFIG)
        events = [
            {"user_id": "u1", "action": "VIEW"},
            {"user_id": "bot-1", "action": "VIEW"},
            {"user_id": "test_x", "action": "VIEW"},
            {"user_id": "TEST_x", "action": "purchase"},
            {"user_id": "u1", "action": "LOGIN"},
            {"user_id": "u1"},
            {"user_id": 7, "action": "VIEW"},
            {"action": "add_to_cart"},
            {"user_id": "u1", "action": ["VIEW"]},
            {"user_id": "u1", "action": "VIEW"},
        ]
        self.assertEqual(
            kinds(rules, events),
            ["keep", "drop", "drop", "keep", "drop", "drop", "keep", "keep", "drop", "keep"],
        )

    def test_layouts_that_differ_event_to_event(self):
        rules = Rules.from_json(CONFIG)
        events = [
            {"action": "VIEW", "user_id": "bot-1"},
            {"x": 1, "y": 2, "user_id": "u1", "action": "VIEW"},
            {"user_id": "u1", "z": None, "action": "SEARCH"},
        ]
        self.assertEqual(kinds(rules, events), ["drop", "keep", "drop"])

    def test_ascii_case_only(self):
        # Rust's eq_ignore_ascii_case: "ß" is not "SS".
        rules = Rules.from_json('{"keep_actions": ["STRASSE"]}')
        self.assertEqual(kinds(rules, [{"action": "straße"}, {"action": "strasse"}]), ["drop", "keep"])

    def test_no_action_in_batch(self):
        rules = Rules.from_json('{"keep_actions": ["VIEW"]}')
        self.assertEqual(kinds(rules, [{"user_id": "u1"}, {}]), ["drop", "drop"])
        self.assertEqual(kinds(rules, []), [])

    def test_fixtures(self):
        with open(os.path.join(HERE, "fixtures", "input.jsonl")) as lines:
            events = [json.loads(line) for line in lines if line.strip()]
        result = kinds(Rules.from_json(CONFIG), events)
        self.assertEqual((result.count("keep"), result.count("drop")), (8, 6))

    def test_broken_batch_fails(self):
        # Checked where fields are read: a batch the rules need not read
        # (no action anywhere, say) is answered without looking.
        names, text, fields, events = pack_batch([{"user_id": "u1", "action": "VIEW"}])
        with self.assertRaises(ValueError):
            Rules.from_json(CONFIG).outcomes(names, text, fields[:-1], events)
        with self.assertRaises(ValueError):
            Rules.from_json(CONFIG).outcomes(names, text, b"", events)


if __name__ == "__main__":
    unittest.main()
