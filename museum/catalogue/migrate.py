"""Bring a database to the newest schema with Alembic, safely when several processes start at once."""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any constant works; it only has to be the same in every process of every node.
_PG_LOCK_KEY = 7_306_284_411


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic configuration bound to this engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration, holding a lock so concurrent starters take turns."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                command.upgrade(alembic_config(engine), "head")
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database or ""
    lock_dir = Path(database).parent if database and database != ":memory:" else Path(
        tempfile.gettempdir())
    with (lock_dir / ".museum-migrate.lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        command.upgrade(alembic_config(engine), "head")
