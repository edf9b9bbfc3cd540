"""Fill the report template the way `weir report` does, without Rust.

Usage: fill_report.py TEMPLATE.html DATA.json LIBRARY.js OUT.html

The template holds two placeholders, each exactly once:

- `<!--WEIR:LIBRARY-->` becomes `<script>` + the library + `</script>`;
- `/*WEIR:DATA*/null` (inside a `<script>`) becomes the data, as compact
  JSON with every `<`, `>` and `&` written `\\u003c`, `\\u003e`, `\\u0026`
  (and U+2028/U+2029 escaped), so no string in it (an SQL comment, a lake
  path) can close the script element or open a comment. The escaped JSON is
  still the same JSON.

Both are found in the template before anything is substituted, so nothing in
the library or the data is ever taken for a placeholder.
"""

import json
import pathlib
import sys

LIBRARY = "<!--WEIR:LIBRARY-->"
DATA = "/*WEIR:DATA*/null"


def script_safe_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def fill(template: str, data, library: str) -> str:
    for placeholder in (LIBRARY, DATA):
        count = template.count(placeholder)
        if count != 1:
            raise SystemExit(f"the template holds {placeholder!r} {count} times, not once")
    if "</script" in library.lower() or "<!--" in library:
        raise SystemExit("the library holds `</script` or `<!--`: it cannot be inlined as is")
    before_library, rest = template.split(LIBRARY)
    if DATA in before_library:
        before_data, between = before_library.split(DATA)
        return (
            before_data + script_safe_json(data) + between
            + "<script>" + library + "</script>" + rest
        )
    between, after_data = rest.split(DATA)
    return (
        before_library + "<script>" + library + "</script>"
        + between + script_safe_json(data) + after_data
    )


def main(template: str, data: str, library: str, out: str) -> None:
    page = fill(
        pathlib.Path(template).read_text(encoding="utf-8"),
        json.loads(pathlib.Path(data).read_text(encoding="utf-8")),
        pathlib.Path(library).read_text(encoding="utf-8"),
    )
    pathlib.Path(out).write_text(page, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
