"""Absolute URLs for links that leave the app (share pages, QR codes, invites)."""

from __future__ import annotations

from fastapi import Request

from app.core.config import get_settings


def base_url(request: Request) -> str:
    configured = get_settings().public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def absolute(request: Request, path: str) -> str:
    return base_url(request) + path
