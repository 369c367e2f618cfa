"""SQLAlchemy models: the catalogue (institutions, collections, items, images, revisions) and curation
(users, exhibitions, site notices, import jobs).

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
    Date,
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


# ----- curation: people, exhibitions, notices, import jobs --------------------------------

ROLES = ("admin", "curator")
EXHIBITION_STATUSES = ("draft", "published", "trashed")


class User(Base):
    """A curator or admin who logs in; the public never has an account."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="curator")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change and deactivation: sessions made before are refused.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # A curator with no institutions listed may edit every institution's items.
    institutions: Mapped[list[Institution]] = relationship(secondary="user_institution")


class UserInstitution(Base):
    """An institution a curator is limited to."""

    __tablename__ = "user_institution"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True)


class LoginThrottle(Base):
    """Failed logins per account or per address, to slow and then refuse guessing."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)   # "user:<name>" or "addr:<ip>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Exhibition(Base):
    """A narrative exhibition: sections of text with chosen items, told in order."""

    __tablename__ = "exhibition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cover_item_id: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    opens_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    closes_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sections: Mapped[list[ExhibitionSection]] = relationship(
        back_populates="exhibition", order_by="ExhibitionSection.position", cascade="all, delete-orphan"
    )


class ExhibitionSection(Base):
    """One chapter of an exhibition: a heading, Markdown text and items with captions."""

    __tablename__ = "exhibition_section"
    __table_args__ = (Index("ix_exhibition_section_order", "exhibition_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exhibition_id: Mapped[int] = mapped_column(ForeignKey("exhibition.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    heading: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)   # Markdown per language

    exhibition: Mapped[Exhibition] = relationship(back_populates="sections")
    entries: Mapped[list[ExhibitionEntry]] = relationship(
        back_populates="section", order_by="ExhibitionEntry.position", cascade="all, delete-orphan"
    )


class ExhibitionEntry(Base):
    """An item shown in a section, with the curator's caption for it there."""

    __tablename__ = "exhibition_entry"
    __table_args__ = (Index("ix_exhibition_entry_order", "section_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("exhibition_section.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    item_id: Mapped[str] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    caption: Mapped[dict[str, Any]] = mapped_column(default=dict)

    section: Mapped[ExhibitionSection] = relationship(back_populates="entries")
    item: Mapped[Item] = relationship()


class SiteNotice(Base):
    """A site-wide notice shown on every public page between its optional start and end."""

    __tablename__ = "site_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImportJob(Base):
    """A bulk import started in the browser: its uploaded files, dry-run plan, progress and report."""

    __tablename__ = "import_job"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    collection_slug: Mapped[str] = mapped_column(String(100))
    table_filename: Mapped[str] = mapped_column(String(300), default="")
    images_filename: Mapped[str] = mapped_column(String(300), default="")
    # uploaded → checked (dry run done) → running → done | failed; done → undone
    state: Mapped[str] = mapped_column(String(20), default="uploaded")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    batch: Mapped[str | None] = mapped_column(String(64), default=None)
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)      # dry-run result, row by row
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)    # the real run's result
    error: Mapped[str] = mapped_column(Text, default="")
