"""Bring a database to the newest schema with Alembic, safely when several processes start at once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from museum.catalogue.db import database_lock

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic configuration bound to this engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration, holding a lock so concurrent starters take turns."""
    with database_lock(engine, "migrate"):
        command.upgrade(alembic_config(engine), "head")
