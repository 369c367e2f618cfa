"""Covering indexes for collection pages: sort keys followed by the item id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace the two sort indexes with ones that also hold the sort tie-breakers and the id."""
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index("ix_item_collection_status_title")
        batch_op.drop_index("ix_item_collection_status_year")
        batch_op.create_index("ix_item_collection_status_title",
                              ["collection_id", "status", "sort_title", "id"], unique=False)
        batch_op.create_index("ix_item_collection_status_year",
                              ["collection_id", "status", "begin_year", "sort_title", "id"], unique=False)


def downgrade() -> None:
    """Restore the narrower indexes of 0001."""
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index("ix_item_collection_status_title")
        batch_op.drop_index("ix_item_collection_status_year")
        batch_op.create_index("ix_item_collection_status_title",
                              ["collection_id", "status", "sort_title"], unique=False)
        batch_op.create_index("ix_item_collection_status_year",
                              ["collection_id", "status", "begin_year"], unique=False)
