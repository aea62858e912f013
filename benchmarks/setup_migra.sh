#!/usr/bin/env bash
# migra in a virtualenv of its own, with the versions the benchmark figures were taken with.
# migra 3.0 needs SQLAlchemy 1.4: with 2.x, sqlbag picks the psycopg 3 dialect and fails.
# Usage: bash benchmarks/setup_migra.sh [VENV_DIR]   (default /tmp/migra-venv)
set -euo pipefail
venv="${1:-/tmp/migra-venv}"
python3 -m venv "$venv"
"$venv/bin/pip" install -q migra==3.0.1663481299 schemainspect==3.1.1663587362 \
  sqlbag==0.1.1617247075 'sqlalchemy>=1.4,<2' psycopg2-binary
echo "migra installed: $venv/bin/migra"
