"""Site notices for admins: create, edit, switch off and delete them, each write one revision.

A notice write appends a revision with entity "notice", which moves the catalogue revision and
so changes every cached page's key at once (see museum/web.py and museum/catalogue/notices.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from museum.catalogue.models import SiteNotice, utcnow
from museum.catalogue.notices import NOTICE_LANGUAGES, Notice, as_utc, notice_from_row
from museum.catalogue.revisions import record_revision
from museum.catalogue.service import Catalogue

# A banner, not an article: long enough for a closure notice with a sentence of explanation.
MAX_MESSAGE_LENGTH = 500
ENTITY = "notice"


@dataclass(frozen=True)
class NoticeDraft:
    """What an admin typed for a notice: a message per language, optional UTC start and end."""

    message: Mapping[str, str]
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    active: bool = True


@dataclass(frozen=True)
class NoticeProblem:
    """One reason a draft is refused: the form field it belongs to, a code, and its details."""

    field: str            # "message", "message:<language>", "starts_at" or "ends_at"
    code: str
    params: dict[str, object] = dataclasses.field(default_factory=dict)


class NoticeError(ValueError):
    """A notice write that cannot be done; `problems` say why, field by field."""

    def __init__(self, problems: list[NoticeProblem]) -> None:
        """Keep the problems; the English text is for logs and the command line."""
        super().__init__("; ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


def check_notice(draft: NoticeDraft) -> NoticeDraft:
    """Return the draft with texts trimmed and times in UTC; raise NoticeError if it is not valid."""
    problems: list[NoticeProblem] = []
    message = {lang: " ".join(str(draft.message.get(lang, "")).split()) for lang in NOTICE_LANGUAGES}
    if not any(message.values()):
        problems.append(NoticeProblem("message", "message_empty"))
    for lang, text in message.items():
        if len(text) > MAX_MESSAGE_LENGTH:
            problems.append(NoticeProblem(f"message:{lang}", "message_long", {"n": MAX_MESSAGE_LENGTH}))
    starts_at, ends_at = as_utc(draft.starts_at), as_utc(draft.ends_at)
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        problems.append(NoticeProblem("ends_at", "end_before_start"))
    if problems:
        raise NoticeError(problems)
    return NoticeDraft(message={k: v for k, v in message.items() if v}, starts_at=starts_at, ends_at=ends_at,
                       active=draft.active)


def notice_snapshot(row: SiteNotice) -> dict[str, Any]:
    """Return the full state of a notice as the revision log keeps it."""
    starts_at, ends_at = as_utc(row.starts_at), as_utc(row.ends_at)
    return {
        "id": row.id,
        "message": dict(row.message),
        "starts_at": starts_at.isoformat() if starts_at else None,
        "ends_at": ends_at.isoformat() if ends_at else None,
        "active": row.active,
    }


def all_notices(cat: Catalogue) -> list[Notice]:
    """Return every notice, switched on or not, newest first."""
    with cat.sessions() as session:
        rows = session.scalars(select(SiteNotice).order_by(SiteNotice.id.desc()))
        return [notice_from_row(row) for row in rows]


def notice_by_id(cat: Catalogue, notice_id: int) -> Notice | None:
    """Return one notice, if it exists."""
    with cat.sessions() as session:
        row = session.get(SiteNotice, notice_id)
        return notice_from_row(row) if row is not None else None


def create_notice(cat: Catalogue, draft: NoticeDraft, actor: str) -> Notice:
    """Add a notice; raise NoticeError if the draft is not valid."""
    clean = check_notice(draft)
    with cat.sessions() as session:
        row = SiteNotice(message=dict(clean.message), starts_at=clean.starts_at, ends_at=clean.ends_at,
                         active=clean.active)
        session.add(row)
        session.flush()  # the revision names the new row's id
        record_revision(session, entity=ENTITY, entity_id=str(row.id), action="create",
                        snapshot=notice_snapshot(row), actor=actor)
        session.commit()
        return notice_from_row(row)


def update_notice(cat: Catalogue, notice_id: int, draft: NoticeDraft, actor: str) -> Notice | None:
    """Replace a notice's text, dates and switch; None if it no longer exists."""
    clean = check_notice(draft)
    with cat.sessions() as session:
        row = session.get(SiteNotice, notice_id)
        if row is None:
            return None
        row.message = dict(clean.message)
        row.starts_at, row.ends_at, row.active = clean.starts_at, clean.ends_at, clean.active
        row.updated_at = utcnow()
        record_revision(session, entity=ENTITY, entity_id=str(row.id), action="update",
                        snapshot=notice_snapshot(row), actor=actor)
        session.commit()
        return notice_from_row(row)


def deactivate_notice(cat: Catalogue, notice_id: int, actor: str) -> Notice | None:
    """Switch a notice off at once, keeping it for later; None if it no longer exists."""
    with cat.sessions() as session:
        row = session.get(SiteNotice, notice_id)
        if row is None:
            return None
        if row.active:
            row.active = False
            row.updated_at = utcnow()
            record_revision(session, entity=ENTITY, entity_id=str(row.id), action="deactivate",
                            snapshot=notice_snapshot(row), actor=actor)
            session.commit()
        return notice_from_row(row)


def delete_notice(cat: Catalogue, notice_id: int, actor: str) -> bool:
    """Delete a notice for good (its revisions keep what it said); False if it was already gone."""
    with cat.sessions() as session:
        row = session.get(SiteNotice, notice_id)
        if row is None:
            return False
        # The snapshot is the last state, so the log can still tell what the notice said.
        record_revision(session, entity=ENTITY, entity_id=str(row.id), action="delete",
                        snapshot=notice_snapshot(row), actor=actor)
        session.delete(row)
        session.commit()
        return True
