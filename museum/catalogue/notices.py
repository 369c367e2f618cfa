"""Site notices as the public site reads them: which are shown at a given moment, and the
in-process board that keeps them per catalogue revision so cached pages need no query.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from museum.catalogue.models import SiteNotice
from museum.catalogue.service import Catalogue

# The languages a notice is written in, as keys of its message map.
NOTICE_LANGUAGES = ("zh-Hans", "zh-Hant", "en")


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Return moment in UTC; a naive value (SQLite gives those back) is taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


@dataclass(frozen=True)
class Notice:
    """A site notice as plain values (no database object escapes the session)."""

    id: int
    message: Mapping[str, str]          # language key (NOTICE_LANGUAGES) → text
    starts_at: dt.datetime | None       # UTC; None means "from now on"
    ends_at: dt.datetime | None         # UTC; None means "until it is switched off"
    active: bool
    updated_at: dt.datetime | None = None

    def shown_at(self, now: dt.datetime) -> bool:
        """Tell whether the public sees this notice at the given moment."""
        if not self.active:
            return False
        if self.starts_at is not None and now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at

    def state_at(self, now: dt.datetime) -> str:
        """Return "off", "scheduled", "showing" or "ended" for the admins' list."""
        if not self.active:
            return "off"
        if self.starts_at is not None and now < self.starts_at:
            return "scheduled"
        if self.ends_at is not None and now >= self.ends_at:
            return "ended"
        return "showing"


def notice_from_row(row: SiteNotice) -> Notice:
    """Return the plain values of a notice row."""
    message: dict[str, Any] = row.message or {}
    return Notice(id=row.id, message={k: str(v) for k, v in message.items() if v},
                  starts_at=as_utc(row.starts_at), ends_at=as_utc(row.ends_at), active=row.active,
                  updated_at=as_utc(row.updated_at))


def switched_on_notices(cat: Catalogue) -> tuple[Notice, ...]:
    """Return every notice whose active box is ticked, whatever its dates, oldest first."""
    with cat.sessions() as session:
        rows = session.scalars(select(SiteNotice).where(SiteNotice.active.is_(True)).order_by(SiteNotice.id))
        return tuple(notice_from_row(row) for row in rows)


def active_notices(cat: Catalogue, now: dt.datetime) -> list[Notice]:
    """Return the notices the public sees at the given moment, oldest first."""
    moment = as_utc(now) or now
    return [notice for notice in switched_on_notices(cat) if notice.shown_at(moment)]


class NoticeBoard:
    """Keep the switched-on notices of one catalogue revision in memory and filter them by time.

    Every notice write appends a revision, so notices loaded at revision N stay right until the
    revision moves; between writes only the clock changes what is shown, and that is a filter in
    Python. A cached page therefore costs no query for its notices.
    """

    def __init__(self, cat: Catalogue) -> None:
        """Remember the catalogue; nothing is loaded until the first request."""
        self._cat = cat
        self._lock = threading.Lock()
        # One tuple, replaced whole, so readers never see a revision with another's notices.
        self._loaded: tuple[int, tuple[Notice, ...]] | None = None

    def shown(self, revision: int, now: dt.datetime) -> tuple[Notice, ...]:
        """Return the notices shown at now, loading them again if the revision has moved."""
        loaded = self._loaded
        if loaded is None or loaded[0] != revision:
            with self._lock:
                loaded = self._loaded
                if loaded is None or loaded[0] != revision:
                    # The caller read the revision before this load, so what is loaded is at least
                    # as new as the revision it is filed under; a later write moves the revision
                    # and causes another load.
                    loaded = (revision, switched_on_notices(self._cat))
                    self._loaded = loaded
        return tuple(notice for notice in loaded[1] if notice.shown_at(now))
