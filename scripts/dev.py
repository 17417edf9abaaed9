#!/usr/bin/env python3
"""Bootstrap for a fresh machine that has only Python 3.11+.

    python3 scripts/dev.py start   # venv + install + migrate + demo data + serve on http://127.0.0.1:8000
    python3 scripts/dev.py test    # venv + install + the whole test suite (extra args go to pytest)

Uses only the standard library until the virtual environment exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".wugong-installed"


def ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (this script runs before any install)
        sys.exit(f"Wugong needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not (BIN / "python").exists():
        print("• creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pyproject = ROOT / "pyproject.toml"
    if not STAMP.exists() or STAMP.stat().st_mtime < pyproject.stat().st_mtime:
        print("• installing Wugong and its dependencies into .venv …", flush=True)
        subprocess.run([str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(BIN / "python"), "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]"], check=True)
        STAMP.touch()


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command not in ("start", "test"):
        print(__doc__)
        return 0 if command == "help" else 2
    ensure_env()
    os.chdir(ROOT)
    if command == "start":
        args = [str(BIN / "wugong"), "serve", "--demo", *rest]
    else:
        args = [str(BIN / "python"), "-m", "pytest", *(rest or ["-q"])]
    return subprocess.call(args)


if __name__ == "__main__":
    sys.exit(main())
