"""The revision log: append one row per write, inside the write's own transaction, and read it back."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, SessionTransaction

from museum.catalogue.models import Collection, Image, Institution, Item, Revision


def _plain(value: Any) -> Any:
    """Return a JSON-safe copy of a column value."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def image_snapshot(image: Image) -> dict[str, Any]:
    """Return the recorded state of one image."""
    return {
        "sha256": image.sha256,
        "format": image.format,
        "mime_type": image.mime_type,
        "width": image.width,
        "height": image.height,
        "byte_size": image.byte_size,
        "original_filename": image.original_filename,
        "caption": image.caption,
        "alt_text": image.alt_text,
        "rights": image.rights,
    }


ITEM_FIELDS = (
    "id", "accession_number", "title", "title_alt", "object_type", "period", "date_display",
    "begin_year", "end_year", "creator", "medium", "dimensions", "provenance", "inscriptions",
    "description", "credit_line", "rights", "rights_url", "source_url", "subjects", "status",
    "featured",
)


def item_snapshot(item: Item, collection_slug: str, institution_slug: str | None) -> dict[str, Any]:
    """Return the full state of an item as the revision log keeps it."""
    snap = {name: _plain(getattr(item, name)) for name in ITEM_FIELDS}
    snap["collection"] = collection_slug
    snap["institution"] = institution_slug
    snap["images"] = [image_snapshot(img) for img in item.images]
    return snap


def collection_snapshot(collection: Collection, institution_slug: str) -> dict[str, Any]:
    """Return the full state of a collection as the revision log keeps it."""
    return {
        "slug": collection.slug,
        "institution": institution_slug,
        "title": dict(collection.title),
        "summary": dict(collection.summary),
        "credits": dict(collection.credits),
        "licence_name": collection.licence_name,
        "licence_url": collection.licence_url,
        "position": collection.position,
        "cover_item_id": collection.cover_item_id,
        "featured_item_ids": list(collection.featured_item_ids),
    }


def institution_snapshot(institution: Institution) -> dict[str, Any]:
    """Return the full state of an institution as the revision log keeps it."""
    return {
        "slug": institution.slug,
        "name": dict(institution.name),
        "url": institution.url,
        "address": dict(institution.address),
    }


_LOCKED = "museum.revision_lock_held"


@event.listens_for(Session, "after_transaction_end")
def _forget_revision_lock(session: Session, transaction: SessionTransaction) -> None:
    """Clear the lock flag when the transaction that took the lock ends."""
    if transaction.parent is None:
        session.info.pop(_LOCKED, None)


def record_revision(session: Session, *, entity: str, entity_id: str, action: str,
                    snapshot: dict[str, Any], actor: str = "system",
                    batch: str | None = None) -> Revision:
    """Append a revision to the current transaction; the caller commits it with the change."""
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(_LOCKED):
        # PostgreSQL hands out sequence numbers at insert time, so two concurrent writers could
        # commit seq 8 before seq 7 and a follower that has read 8 would never see 7. Holding
        # this lock until commit makes commit order equal sequence order (writes are rare).
        session.execute(text("LOCK TABLE revision IN SHARE ROW EXCLUSIVE MODE"))
        session.info[_LOCKED] = True
    revision = Revision(entity=entity, entity_id=entity_id, action=action, actor=actor,
                        batch=batch, snapshot=snapshot)
    # Not flushed here: the unit of work inserts a batch's revisions together, in the order added.
    session.add(revision)
    return revision


def latest_sequence(session: Session) -> int:
    """Return the sequence number of the newest revision, 0 when the log is empty."""
    return int(session.scalar(select(func.coalesce(func.max(Revision.seq), 0))) or 0)


def revision_count_after(session: Session, seq: int) -> int:
    """Return how many revisions are newer than seq."""
    return int(session.scalar(select(func.count()).select_from(Revision).where(Revision.seq > seq)) or 0)


def revisions_after(session: Session, seq: int, limit: int = 1000) -> Sequence[Revision]:
    """Return up to limit revisions newer than seq, oldest first."""
    return session.scalars(
        select(Revision).where(Revision.seq > seq).order_by(Revision.seq).limit(limit)
    ).all()



class RevisionProbe:
    """Read the newest revision sequence on every request, cheaply, over one dedicated connection.

    Page-cache keys need this number per request; through an ORM session it costs a quarter of a
    millisecond, over a connection kept for the purpose a few microseconds.
    """

    def __init__(self, engine: Engine) -> None:
        """Remember the engine; the connection is opened on first use (after any fork)."""
        self._engine = engine
        self._connection: Any = None
        self._lock = threading.Lock()

    def latest(self) -> int:
        """Return the newest revision sequence number, 0 when the log is empty."""
        with self._lock:
            if self._connection is None:
                pooled = self._engine.raw_connection()
                pooled.detach()  # ours alone, never handed to another caller by the pool
                self._connection = pooled
            try:
                cursor = self._connection.cursor()
                cursor.execute("SELECT max(seq) FROM revision")
                row = cursor.fetchone()
                cursor.close()
                # Ends the read transaction so the next call sees later commits.
                self._connection.commit()
            except Exception:
                self._close_locked()
                raise
            return int(row[0] or 0) if row else 0

    def close(self) -> None:
        """Close the dedicated connection."""
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        """Close the connection; the caller holds the lock."""
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
