"""Settings of one installation: defaults, then the instance file, then MUSEUM_* variables, then overrides.

Settings is a plain frozen dataclass so the CLI, services and tests can use it without Flask.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Every tunable of the server; each default carries a one-line comment."""

    # Holds the database, originals, derivatives and the search index.
    data_dir: Path = Path("./instance")
    # SQLAlchemy URL; empty means SQLite inside data_dir.
    database_url: str = ""
    # Redis URL for Flask-Caching; empty means a per-process simple cache.
    cache_redis_url: str = ""
    # Seconds a cached public page lives (the key changes on every catalogue write anyway).
    cache_timeout: int = 600
    # Folder of collection folders imported on first start.
    exhibit_dir: Path = PROJECT_ROOT / "collections"
    # Import the default exhibit when the catalogue is empty.
    import_default_exhibit: bool = True
    # Items per page in grids and search results.
    page_size: int = 24
    # Largest image file accepted at ingest, in bytes.
    max_image_bytes: int = 100 * 1024 * 1024
    # Largest image accepted at ingest, in pixels (width × height).
    max_image_pixels: int = 200_000_000
    # Signs session cookies; empty means generate once and keep it in data_dir.
    secret_key: str = ""
    # Name of the site in the page header, per locale.
    site_name_en: str = "City Museums Online"
    site_name_zh_hant: str = "城市博物館線上"
    site_name_zh_hans: str = "城市博物馆在线"
    # Shown at the top of every public page when not empty (e.g. closures).
    site_notice: str = ""
    # Address the server listens on.
    host: str = "127.0.0.1"
    # Port the server listens on.
    port: int = 8000
    # gunicorn worker processes for `museum serve`.
    workers: int = 2
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    proxy_hops: int = 0

    @property
    def resolved_database_url(self) -> str:
        """Return the configured database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'museum.sqlite3').resolve()}"

    @property
    def originals_dir(self) -> Path:
        """Return where untouched original images are stored by hash."""
        return self.data_dir / "originals"

    @property
    def derivatives_dir(self) -> Path:
        """Return where rebuildable image derivatives are cached."""
        return self.data_dir / "derivatives"

    @property
    def index_dir(self) -> Path:
        """Return where the rebuildable search index lives."""
        return self.data_dir / "index"

    @property
    def cache_dir(self) -> Path:
        """Return where rebuildable page-cache files may live."""
        return self.data_dir / "cache"


def _coerce(name: str, raw: Any) -> Any:
    """Convert a raw value from a file or the environment to the type of the named field."""
    default = getattr(Settings, name, None)
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"setting {name} must be an integer, got {raw!r}") from exc
    if isinstance(default, Path):
        return Path(str(raw))
    return str(raw)


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from defaults, the instance file, MUSEUM_* variables and overrides."""
    env = os.environ if environ is None else environ
    names = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}

    data_dir = Path(str((overrides or {}).get("data_dir") or env.get("MUSEUM_DATA_DIR") or "./instance"))
    instance_file = data_dir / "museum.toml"
    if instance_file.is_file():
        with instance_file.open("rb") as fh:
            for key, raw in tomllib.load(fh).items():
                if key in names:
                    values[key] = _coerce(key, raw)
    for name in names:
        raw_env = env.get(f"MUSEUM_{name.upper()}")
        if raw_env is not None and raw_env != "":
            values[name] = _coerce(name, raw_env)
    # The conventional variable wins over nothing but loses to the explicit MUSEUM_ one.
    if "database_url" not in values and env.get("DATABASE_URL"):
        values["database_url"] = env["DATABASE_URL"]
    for key, raw in (overrides or {}).items():
        if key not in names:
            raise KeyError(f"unknown setting {key!r}")
        values[key] = _coerce(key, raw)
    values["data_dir"] = Path(values.get("data_dir", data_dir))
    return Settings(**values)


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, creating and keeping one in the data directory if unset."""
    if settings.secret_key:
        return settings
    key_file = settings.data_dir / "secret_key"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        # Write aside then hard-link: the link fails if another worker won the race, and
        # nobody ever reads a half-written key.
        tmp = key_file.with_name(f"secret_key.{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = key_file.read_text().strip()
    return replace(settings, secret_key=key)
