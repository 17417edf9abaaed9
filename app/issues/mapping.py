"""Settings of the issue map page. Kept beside the issue list (not in app.core.config) so the
map's one setting travels with the feature; read from the same environment and .env file."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict


class MapSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WUGONG_", env_file=".env", extra="ignore")

    # An XYZ tile URL such as https://tiles.example.cn/{z}/{x}/{y}.png; empty: no base map, and
    # the page places issues on a plain latitude/longitude grid (no request leaves the site).
    map_tile_url: str = ""
    map_tile_attribution: str = ""


@lru_cache(maxsize=1)
def map_settings() -> MapSettings:
    return MapSettings()


def tile_origin(url: str) -> str | None:
    """The scheme://host[:port] the tiles come from, for the page's Content-Security-Policy."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"
