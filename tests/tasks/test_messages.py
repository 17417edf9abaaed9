"""Every word tasks can say has words in both languages: each refusal its code raises (with every
placeholder filled by the raise), each notification, each home card and share line, each state.
The source is read, not run, so a refusal no test reaches still has its message."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from app.core.i18n import catalogue
from app.tasks import flows

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "app" / "tasks").glob("*.py"))
ERRORS = {"AppError", "NotFound", "Unauthorized", "Forbidden", "Conflict", "Invalid", "TooMany", "UnknownReference",
          "field_error"}
NOT_PARAMS = {"errors", "headers", "extra", "keep_changes", "status", "message_key", "code", "key"}
LOCALES = ("zh-CN", "en")


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def raised() -> dict[str, set[str]]:
    """error code -> the keyword parameters its raises pass; plus message keys named directly."""
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name in ERRORS and node.args and isinstance(node.args[0], ast.Constant):
                found.setdefault(f"error.{node.args[0].value}", set()).update(
                    {k.arg for k in node.keywords if k.arg} - NOT_PARAMS)
            if name == "hit":  # a rate limit's refusal says in how many minutes
                error = next(k.value for k in node.keywords if k.arg == "error")
                assert isinstance(error, ast.Constant)
                found.setdefault(f"error.{error.value}", set()).add("minutes")
            for k in node.keywords:
                if k.arg == "key" and isinstance(k.value, ast.Constant):
                    found.setdefault(str(k.value.value), set())
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("error."):
                    found.setdefault(arg.value, set())
    return found


def notification_keys() -> set[str]:
    keys = set()
    for path in SOURCES:
        for match in re.finditer(r'"(task\.[a-z_]+)"', path.read_text(encoding="utf-8")):
            if not match.group(1).startswith(("task.create", "task.update")):
                keys.add(f"notification.{match.group(1)}")
    keys |= {f"notification.task.{k}_taken" for k in flows.ONE_PERSON}
    keys |= {"notification.task.points_paid", "notification.task.hours_paid"}
    return keys


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_what_it_should() -> None:
    codes = raised()
    assert {"error.task_full", "error.task_already_claimed", "error.claim_verify_own", "error.task_evidence_missing",
            "error.task_checkin_tries", "error.claim_needs_reason"} <= set(codes)
    assert codes["error.task_action_not_allowed"] >= {"action", "state"}
    assert {"notification.task.claim_confirmed", "notification.task.reminder_hour",
            "notification.task.checkin_missed_organiser"} <= notification_keys()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_refusal_has_words_with_every_placeholder_given(locale: str) -> None:
    words = catalogue(locale)
    missing = sorted(k for k in raised() if k not in words)
    assert missing == []
    unfilled = {k: sorted(placeholders(words[k]) - params) for k, params in raised().items()
                if placeholders(words[k]) - params}
    assert unfilled == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_notification_state_and_action_has_words(locale: str) -> None:
    words = catalogue(locale)
    keys = notification_keys()
    keys |= {f"ui.task.status.{s}" for s in flows.Status} | {f"ui.task.claim_status.{s}" for s in flows.ClaimStatus}
    keys |= {f"ui.task.kind.{k}" for k in flows.Kind} | {f"ui.task.share.action.{k}" for k in flows.Kind}
    keys |= {f"ui.task.action.{a}" for a in (*flows.TASK_TRANSITIONS, *flows.CLAIM_TRANSITIONS)}
    keys |= {f"home.tasks.next.{s}" for s in ("claimed", "checked_in", "rejected")}
    assert sorted(k for k in keys if not words.get(k)) == []


def test_english_words_are_english_and_chinese_ones_chinese() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    own = [k for k in en if k.startswith(("error.task", "error.claim", "notification.task", "ui.task.", "home.tasks"))]
    assert len(own) > 140
    assert [k for k in own if re.search(r"[\u4e00-\u9fff]", en[k])] == []
    assert [k for k in own if not re.search(r"[\u4e00-\u9fff]", zh[k])] == []
