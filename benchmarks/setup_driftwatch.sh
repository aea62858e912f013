#!/usr/bin/env bash
# A driftwatch in a virtualenv of its own, so the benchmark measures one known state of the code
# even while the work tree is being edited.
# Usage: bash benchmarks/setup_driftwatch.sh [REV] [DIR]   (default HEAD, /tmp/dw-bench-<sha>)
#        bash benchmarks/setup_driftwatch.sh --worktree [DIR]   (default /tmp/dw-bench-worktree)
# --worktree copies the work tree as it is now (tracked and untracked files, not ignored ones),
# uncommitted edits included: DRIFTWATCH_COMMIT then reads "<HEAD sha>+worktree", and
# DRIFTWATCH_CHANGES lists the files that differ from HEAD.
# Then:  python benchmarks/run.py --driftwatch DIR/venv/bin/driftwatch ...
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--worktree" ]; then
    sha="$(git rev-parse HEAD)"
    dir="${2:-/tmp/dw-bench-worktree}"
    rm -rf "$dir" && mkdir -p "$dir/src"
    git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
        [ -e "$f" ] && printf '%s\0' "$f"
    done | xargs -0 cp --parents -t "$dir/src"
    label="$sha+worktree"
else
    sha="$(git rev-parse "${1:-HEAD}")"
    dir="${2:-/tmp/dw-bench-${sha:0:10}}"
    rm -rf "$dir" && mkdir -p "$dir/src"
    git archive "$sha" | tar -x -C "$dir/src"
    label="$sha"
fi
python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install -q "$dir/src"
echo "$label" > "$dir/venv/DRIFTWATCH_COMMIT"
if [ "${1:-}" = "--worktree" ]; then
    git status --porcelain -- driftwatch > "$dir/venv/DRIFTWATCH_CHANGES"
fi
echo "driftwatch $label installed: $dir/venv/bin/driftwatch"
