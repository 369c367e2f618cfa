"""SQLAlchemy models of the catalogue: institutions, collections, items, images and revisions.

Translatable labels (names, titles, summaries) are JSON maps of locale → text, so a fourth
language needs no migration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ITEM_STATUSES = ("draft", "published", "trashed")


def utcnow() -> dt.datetime:
    """Return the current time in UTC with its timezone."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every catalogue table."""

    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Institution(Base):
    """A museum, gallery or library that holds items."""

    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[dict[str, Any]] = mapped_column(default=dict)
    url: Mapped[str] = mapped_column(String(500), default="")
    address: Mapped[dict[str, Any]] = mapped_column(default=dict)

    collections: Mapped[list[Collection]] = relationship(back_populates="institution")


class Collection(Base):
    """A curated set of items belonging to one institution."""

    __tablename__ = "collection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    title: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    credits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    licence_name: Mapped[str] = mapped_column(String(300), default="")
    licence_url: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    cover_item_id: Mapped[str | None] = mapped_column(String(200), default=None)
    featured_item_ids: Mapped[list[str]] = mapped_column(default=list)

    institution: Mapped[Institution] = relationship(back_populates="collections")
    items: Mapped[list[Item]] = relationship(back_populates="collection")


class Item(Base):
    """An artefact: its stable id is the record id it was imported or created with."""

    __tablename__ = "item"
    __table_args__ = (
        # Both end in id so a page of ids is read from the index alone (see store.published_page).
        Index("ix_item_collection_status_title", "collection_id", "status", "sort_title", "id"),
        Index("ix_item_collection_status_year", "collection_id", "status", "begin_year", "sort_title", "id"),
        Index("ix_item_status_featured", "status", "featured"),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), default=None)
    accession_number: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(Text)
    title_alt: Mapped[str] = mapped_column(Text, default="")
    sort_title: Mapped[str] = mapped_column(String(200), default="")
    object_type: Mapped[str] = mapped_column(String(200), default="")
    period: Mapped[str] = mapped_column(String(200), default="")
    date_display: Mapped[str] = mapped_column(String(300), default="")
    begin_year: Mapped[int | None] = mapped_column(Integer, default=None)
    end_year: Mapped[int | None] = mapped_column(Integer, default=None)
    creator: Mapped[str] = mapped_column(Text, default="")
    medium: Mapped[str] = mapped_column(Text, default="")
    dimensions: Mapped[str] = mapped_column(Text, default="")
    provenance: Mapped[str] = mapped_column(Text, default="")
    inscriptions: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    credit_line: Mapped[str] = mapped_column(Text, default="")
    rights: Mapped[str] = mapped_column(Text, default="")
    rights_url: Mapped[str] = mapped_column(String(500), default="")
    source_url: Mapped[str] = mapped_column(String(1000), default="")
    subjects: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="published")
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    collection: Mapped[Collection] = relationship(back_populates="items")
    institution: Mapped[Institution | None] = relationship()
    images: Mapped[list[Image]] = relationship(
        back_populates="item", order_by="Image.position", cascade="all, delete-orphan"
    )


class Image(Base):
    """One image of an item, pointing at an original stored by its SHA-256."""

    __tablename__ = "image"
    __table_args__ = (UniqueConstraint("item_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(10))
    mime_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    original_filename: Mapped[str] = mapped_column(String(300), default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    alt_text: Mapped[str] = mapped_column(Text, default="")
    rights: Mapped[str] = mapped_column(Text, default="")

    item: Mapped[Item] = relationship(back_populates="images")


class Revision(Base):
    """One entry of the revision log: what changed, who did it, and the full state after it."""

    __tablename__ = "revision"
    __table_args__ = (Index("ix_revision_entity", "entity", "entity_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100), default="system")
    batch: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
