"""Every refusal that accounts and communities can raise has words in both languages.

The source is read, not run: each error constructor's code (``Conflict("name_taken")``) must have
``error.<code>`` in the zh-CN and en catalogues, with every ``{placeholder}`` filled by the call.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from app.core.i18n import catalogue

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("app/accounts/*.py"), *ROOT.glob("app/communities/*.py"),
                  ROOT / "app/core/pagination.py", ROOT / "app/core/errors.py"])
ERRORS = {"AppError", "NotFound", "Unauthorized", "Forbidden", "Conflict", "Invalid", "TooMany"}
NOT_PARAMS = {"errors", "headers", "extra", "keep_changes", "status", "message_key", "code"}
LOCALES = ("zh-CN", "en")


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def raised_codes() -> dict[str, set[str]]:
    """error code -> the keyword parameters one of its raises passes (for the message)."""
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in ERRORS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    params = {k.arg for k in node.keywords if k.arg} - NOT_PARAMS
                    found.setdefault(first.value, set()).update(params)
            # Codes handed on through helpers: the sign-in limits' 429s, _wait("otp_ip_hourly", ...)
            # and _Window("sign_in_locked", ...), which say in how many minutes; invite_problem()'s answers.
            if isinstance(node, ast.Call) and _name(node.func) in {"_wait", "_Window"} and node.args \
                    and isinstance(node.args[0], ast.Constant):
                found.setdefault(node.args[0].value, set()).add("minutes")
            if isinstance(node, ast.FunctionDef) and node.name == "invite_problem":
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Constant) and ret.value.value:
                        found.setdefault(ret.value.value, set())
    return found


def message_keys() -> set[str]:
    """Keys handed straight to the catalogue: roster problems and our validators' messages."""
    keys: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            args = {"RowError": node.args[2:3], "RosterFileError": node.args[:1], "ValueError": node.args[:1]}
            for arg in args.get(_name(node.func), []):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    keys.add(arg.value)
    return keys


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_codes_it_should():
    codes = raised_codes()
    for code in ("otp_wrong", "sign_in_locked", "sign_in_ip_throttled", "otp_ip_hourly", "name_taken",
                 "invite_expired", "last_committee", "community_not_found", "roster_rejected", "bad_cursor",
                 "forbidden_role"):
        assert code in codes
    assert codes["join_request_decided"] >= {"state"}
    assert len(codes) > 30


@pytest.mark.parametrize("locale", LOCALES)
def test_every_raised_code_has_a_message(locale):
    missing = sorted(code for code in raised_codes() if f"error.{code}" not in catalogue(locale))
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_placeholder_is_given_by_the_raise(locale):
    unfilled = {}
    for code, params in raised_codes().items():
        text = catalogue(locale).get(f"error.{code}", "")
        if placeholders(text) - params:
            unfilled[code] = sorted(placeholders(text) - params)
    assert unfilled == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_roster_and_validation_key_has_a_message(locale):
    keys = message_keys()
    assert {"roster.phone_invalid", "roster.empty", "validation.phone", "validation.not_null"} <= keys
    assert sorted(k for k in keys if k not in catalogue(locale)) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_status_has_a_title(locale):
    for status in (400, 401, 403, 404, 409, 413, 422, 429, 500):
        assert f"status.{status}" in catalogue(locale)


def test_english_messages_are_english_and_chinese_ones_chinese():
    zh, en = catalogue("zh-CN"), catalogue("en")
    codes = [f"error.{c}" for c in raised_codes()]
    assert [k for k in codes if re.search(r"[\u4e00-\u9fff]", en[k])] == []
    assert [k for k in codes if not re.search(r"[\u4e00-\u9fff]", zh[k])] == []
