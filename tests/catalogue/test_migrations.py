"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from museum.catalogue.db import make_engine
from museum.catalogue.migrate import alembic_config, upgrade_to_head
from museum.catalogue.models import Base


def test_migrations_match_the_models_and_rerun_safely(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_to_head(engine)
        upgrade_to_head(engine)  # a second start finds nothing to do
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], diff
            head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
            assert head == "0003"  # the newest file in museum/migrations/versions
            assert MigrationContext.configure(conn).get_current_revision() == head
        expected = {"institution", "collection", "item", "image", "revision", "user_account", "exhibition",
                    "import_job"}
        assert expected <= set(inspect(engine).get_table_names())
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
