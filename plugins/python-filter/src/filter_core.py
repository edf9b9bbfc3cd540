"""The filter's rules and the packed layouts it reads and writes, free of any
WebAssembly binding so that plain CPython can test them (see test_filter.py).

Layouts (wit/plugin.wit, plugins/sdk/src/layout.rs), all little-endian:

- field, 16 bytes: name index (u32), kind (u8), 3 zero bytes, payload (8
  bytes; for text, a span: start u32, length u32);
- event, 24 bytes: first field (u32), field count (u32), position span
  (u32, u32), arrival micros (s64);
- outcome, 20 bytes: kind (u32: 0 keep, 1 drop, 2 reject), four u32s.

Semantics follow the Rust `bundled:filter` for the two rules this plugin
has: a `user_id` that is not a string escapes the prefix rule; when
`keep_actions` is non-empty, an event whose `action` is missing or not a
string is dropped; actions compare ignoring ASCII case only (as Rust's
`eq_ignore_ascii_case`), which `bytes.upper()` does exactly.
"""

import json
import struct
import sys
from array import array

FIELD_BYTES = 16
EVENT_BYTES = 24
OUTCOME_BYTES = 20

KIND_TEXT = 5
OUTCOME_DROP = 1

# Only the first two words of an event matter here: first field, count.
_EVENT = struct.Struct("<II16x")

KNOWN_KEYS = ("drop_user_prefixes", "keep_actions")


class ConfigError(ValueError):
    """A configuration the plugin refuses; its message goes to the host."""


def _string_list(key, value):
    if not isinstance(value, list):
        raise ConfigError(
            f"`{key}` must be a list of strings, found {_json_type(value)}"
        )
    for position, entry in enumerate(value):
        if not isinstance(entry, str):
            raise ConfigError(
                f"`{key}[{position}]` must be a string, found {_json_type(entry)}"
            )
        if not entry.strip():
            raise ConfigError(f"`{key}` must not hold an empty entry")
    return value


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class Rules:
    """The configured filter."""

    def __init__(self, drop_user_prefixes=(), keep_actions=()):
        # Both compared as UTF-8 bytes against spans of the batch's text, so
        # no event's text is ever decoded.
        self.prefixes = tuple(p.encode("utf-8") for p in drop_user_prefixes)
        self.actions = frozenset(a.encode("utf-8").upper() for a in keep_actions)

    @classmethod
    def from_json(cls, config_json):
        try:
            config = json.loads(config_json)
        except ValueError as err:
            raise ConfigError(f"config is not valid JSON: {err}") from None
        if not isinstance(config, dict):
            raise ConfigError(
                f"config must be a JSON object, found {_json_type(config)}"
            )
        for key in config:
            if key not in KNOWN_KEYS:
                raise ConfigError(
                    f"unknown key `{key}`, expected one of "
                    + ", ".join(f"`{k}`" for k in KNOWN_KEYS)
                )
        return cls(
            _string_list("drop_user_prefixes", config.get("drop_user_prefixes", [])),
            _string_list("keep_actions", config.get("keep_actions", [])),
        )

    def describe(self):
        return (
            f"dropping user_id prefixes {[p.decode() for p in self.prefixes]}, "
            f"keeping actions {sorted(a.decode() for a in self.actions) or 'all'}"
        )

    def outcomes(self, names, text, fields, events):
        """The packed outcomes of a batch: a drop for every event the rules
        filter out, an unchanged keep for every other."""
        if len(fields) % FIELD_BYTES or len(events) % EVENT_BYTES:
            raise ValueError("packed fields or events of a length the layout forbids")
        count = len(events) // EVENT_BYTES
        # All zeros is a keep with no changes: only drops need writing.
        out = bytearray(OUTCOME_BYTES * count)
        prefixes = self.prefixes
        actions = self.actions
        if count == 0 or not (prefixes or actions):
            return bytes(out)
        user = names.index("user_id") if "user_id" in names else -1
        action = names.index("action") if "action" in names else -1
        if not prefixes:
            user = -1
        if not actions:
            action = -1
        elif action < 0:
            # No event of the batch has an action: every one is dropped.
            for at in range(0, len(out), OUTCOME_BYTES):
                out[at] = OUTCOME_DROP
            return bytes(out)
        if user < 0 and action < 0:
            return bytes(out)
        # Four u32 words per field: name, kind (low byte), span start, length,
        # read in place (wasm32 is little-endian; a big-endian machine running
        # the tests gets a swapped copy).
        if _LITTLE:
            words = memoryview(fields).cast("I")
        else:
            words = array("I")
            words.frombytes(fields)
            words.byteswap()
        field_names = words[::4].tolist()
        total = len(field_names)
        find = field_names.index
        user_hint = action_hint = 0
        at = 0
        for first, n in _EVENT.iter_unpack(events):
            end = first + n
            if end > total:
                raise ValueError(f"event {at // OUTCOME_BYTES} has fields past the batch's {total}")
            drop = False
            if user >= 0:
                # Events of a batch mostly share a layout: try where the
                # last event had the field before scanning.
                k = first + user_hint
                if not (k < end and field_names[k] == user):
                    try:
                        k = find(user, first, end)
                        user_hint = k - first
                    except ValueError:
                        k = -1
                if k >= 0:
                    w = 4 * k
                    if words[w + 1] & 0xFF == KIND_TEXT:
                        start = words[w + 2]
                        drop = text[start:start + words[w + 3]].startswith(prefixes)
            if not drop and action >= 0:
                k = first + action_hint
                if not (k < end and field_names[k] == action):
                    try:
                        k = find(action, first, end)
                        action_hint = k - first
                    except ValueError:
                        k = -1
                if k < 0:
                    drop = True
                else:
                    w = 4 * k
                    if words[w + 1] & 0xFF == KIND_TEXT:
                        start = words[w + 2]
                        drop = text[start:start + words[w + 3]].upper() not in actions
                    else:
                        drop = True
            if drop:
                out[at] = OUTCOME_DROP
            at += OUTCOME_BYTES
        return bytes(out)


_LITTLE = sys.byteorder == "little"
assert array("I").itemsize == 4
