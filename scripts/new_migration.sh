#!/usr/bin/env bash
# Generate the next Alembic migration from the models: scripts/new_migration.sh "what changed" 0003
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 MESSAGE REV_ID (e.g. \"meetings\" 0003)"; exit 2; }
db=$(mktemp -u /tmp/wugong-migrate-XXXX.db)
WUGONG_DATABASE_URL="sqlite+aiosqlite:///$db" .venv/bin/alembic upgrade head
WUGONG_DATABASE_URL="sqlite+aiosqlite:///$db" .venv/bin/alembic revision --autogenerate -m "$1" --rev-id "$2"
rm -f "$db"*
echo "Review the new file in migrations/versions/ before committing."
