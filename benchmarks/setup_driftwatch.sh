#!/usr/bin/env bash
# A committed driftwatch in a virtualenv of its own, so the benchmark measures one known commit
# even while the work tree is being edited.
# Usage: bash benchmarks/setup_driftwatch.sh [REV] [DIR]   (default HEAD, /tmp/dw-bench-<sha>)
# Then:  python benchmarks/run.py --driftwatch DIR/venv/bin/driftwatch ...
set -euo pipefail
cd "$(dirname "$0")/.."
sha="$(git rev-parse "${1:-HEAD}")"
dir="${2:-/tmp/dw-bench-${sha:0:10}}"
rm -rf "$dir" && mkdir -p "$dir/src"
git archive "$sha" | tar -x -C "$dir/src"
python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install -q "$dir/src"
echo "$sha" > "$dir/venv/DRIFTWATCH_COMMIT"
echo "driftwatch $sha installed: $dir/venv/bin/driftwatch"
