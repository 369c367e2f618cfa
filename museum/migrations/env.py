"""Alembic environment: run migrations on the engine the museum passes in."""

from __future__ import annotations

from alembic import context

from museum.catalogue.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations online on the engine handed over in the config attributes."""
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
