#!/usr/bin/env bash
# While nothing is released, the schema lives in one initial migration; regenerate it from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f migrations/versions/*_initial.py /tmp/wugong_regen.db
WUGONG_DATABASE_URL="sqlite+aiosqlite:////tmp/wugong_regen.db" .venv/bin/alembic revision --autogenerate -m initial --rev-id 0001 >/dev/null
rm -f /tmp/wugong_regen.db*
ls migrations/versions/
