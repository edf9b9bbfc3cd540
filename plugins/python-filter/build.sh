#!/usr/bin/env bash
# Build the Python filter plugin into a WebAssembly component with
# componentize-py, against the `plugin` world of ../../wit.
#
#   plugins/python-filter/build.sh [OUTPUT.wasm]
#
# OUTPUT defaults to python-filter.wasm beside this script (where
# pipeline.toml looks for it); a relative OUTPUT is taken from the current
# directory. The virtual environment lives in $WEIR_PY_VENV, by default
# ~/.cache/weir/py-plugin-venv, and is created and brought up to
# requirements.txt when needed. Runs from any directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wit="$(cd "$here/../../wit" && pwd)"
venv="${WEIR_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/weir/py-plugin-venv}"

out="${1:-$here/python-filter.wasm}"
case "$out" in
    /*) ;;
    *) out="$PWD/$out" ;;
esac
mkdir -p "$(dirname "$out")"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating virtual environment $venv" >&2
    python3 -m venv "$venv"
fi
# Install only when the pinned versions are not already there, so a build
# with everything in place touches no registry.
if ! "$venv/bin/python" - "$here/requirements.txt" <<'PY'
import sys
from importlib import metadata

for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, _, version = line.partition("==")
    try:
        if metadata.version(name) != version:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
PY
then
    echo "installing $here/requirements.txt into $venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

# componentize-py generates the bindings (the `wit_world` package) itself
# while it builds, so none are checked in. The app module must not be named
# after the world (`plugin`), hence `app`. `src` is the only Python path,
# so nothing else of this folder (fixtures, a lake, an earlier build) can end
# up in the component; the plugin needs nothing beyond the standard library.
cd "$here/src"
start=$(date +%s)
"$venv/bin/componentize-py" --quiet \
    --wit-path "$wit" --world plugin \
    componentize app \
    --python-path "$here/src" \
    --output "$out"
echo "built $out ($(stat -c %s "$out") bytes) in $(( $(date +%s) - start ))s" >&2
