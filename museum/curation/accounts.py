"""Accounts: users and roles, password hashing, login with throttling, and who may edit what.

Passwords are hashed with Argon2id (argon2-cffi, memory-hard). Failed logins are counted per
account and per address: after a few, each further attempt must wait longer, and after many the
account or address is refused for a while, whatever password is given.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from museum.catalogue.models import ROLES, Institution, LoginThrottle, User
from museum.catalogue.service import Catalogue

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
# Throttling: free attempts, then a growing wait, then a lock-out.
FREE_FAILURES = 3
LOCK_AFTER = 10
LOCK_FOR = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=1)

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


class AccountError(ValueError):
    """A request about accounts that cannot be done.

    `code` names the reason so the web layer can say it in the visitor's language; the English
    text (str()) is for the command line and logs; `params` fill in the details.
    """

    def __init__(self, code: str, english: str, **params: object) -> None:
        """Keep the reason's code, English text and details."""
        super().__init__(english)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Account:
    """A logged-in person as the web layer sees them (no database objects)."""

    id: int
    username: str
    display_name: str
    role: str
    institutions: tuple[str, ...]   # slugs; empty means every institution
    session_version: int
    active: bool

    @property
    def is_admin(self) -> bool:
        """Tell whether this account administers the site."""
        return self.role == "admin"

    def may_edit(self, institution_slug: str | None) -> bool:
        """Tell whether this account may change items held by the given institution."""
        if not self.active:
            return False
        if self.is_admin or not self.institutions:
            return True
        return institution_slug in self.institutions


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt: an account, or a refusal with how long to wait."""

    account: Account | None
    retry_after: int = 0     # seconds; non-zero when throttled or locked


def _now() -> dt.datetime:
    """Return the current time in UTC."""
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """Return moment with UTC attached (SQLite gives naive datetimes back)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _account(user: User) -> Account:
    """Return the web layer's view of a user row."""
    return Account(id=user.id, username=user.username, display_name=user.display_name or user.username,
                   role=user.role, institutions=tuple(sorted(i.slug for i in user.institutions)),
                   session_version=user.session_version, active=user.active)


def check_password_rules(password: str) -> None:
    """Raise AccountError if a new password is too short, too long or blank."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_short", f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
                           n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("password_long", f"The password must have at most {MAX_PASSWORD_LENGTH} characters.",
                           n=MAX_PASSWORD_LENGTH)
    if not password.strip():
        raise AccountError("password_blank", "The password cannot be only spaces.")


def create_user(cat: Catalogue, username: str, password: str, role: str = "curator", display_name: str = "",
                institutions: tuple[str, ...] = ()) -> Account:
    """Create an account; raise AccountError for a taken or malformed name, a weak password or a bad role."""
    username = username.strip().lower()
    if not USERNAME_RE.fullmatch(username):
        raise AccountError("username_form",
                           "A user name is 2–64 lowercase letters, digits, dots, hyphens or underscores.")
    if role not in ROLES:
        raise AccountError("role", f"The role must be one of: {', '.join(ROLES)}.", roles=", ".join(ROLES))
    check_password_rules(password)
    with cat.sessions() as session:
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise AccountError("username_taken", f"There is already a user called {username}.", username=username)
        user = User(username=username, display_name=display_name.strip()[:200], role=role,
                    password_hash=_hasher.hash(password))
        user.institutions = _institutions(session, institutions)
        session.add(user)
        session.commit()
        return _account(user)


def _institutions(session: Session, slugs: tuple[str, ...]) -> list[Institution]:
    """Return the institutions with these slugs; raise AccountError naming any unknown one."""
    found = list(session.scalars(select(Institution).where(Institution.slug.in_(slugs))).all()) if slugs else []
    missing = set(slugs) - {i.slug for i in found}
    if missing:
        raise AccountError("institution", f"No such institution: {', '.join(sorted(missing))}.",
                           names=", ".join(sorted(missing)))
    return found


def account_by_id(cat: Catalogue, user_id: int) -> Account | None:
    """Return the account with this id, if any."""
    with cat.sessions() as session:
        user = session.get(User, user_id)
        return _account(user) if user is not None else None


@dataclass(frozen=True)
class AccountRow:
    """An account as the admins' list shows it: the account and when it was last used."""

    account: Account
    last_login_at: dt.datetime | None
    created_at: dt.datetime | None


def account_rows(cat: Catalogue) -> list[AccountRow]:
    """Return every account with its last login, by user name (the admins' list)."""
    with cat.sessions() as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        return [AccountRow(_account(u), _aware(u.last_login_at), _aware(u.created_at)) for u in users]


def institution_choices(cat: Catalogue) -> list[tuple[str, dict[str, str]]]:
    """Return every institution an account may be limited to, as (slug, name map), by slug."""
    with cat.sessions() as session:
        rows = session.scalars(select(Institution).order_by(Institution.slug)).all()
        return [(row.slug, {k: str(v) for k, v in (row.name or {}).items()}) for row in rows]


def all_accounts(cat: Catalogue) -> list[Account]:
    """Return every account, by user name."""
    with cat.sessions() as session:
        return [_account(u) for u in session.scalars(select(User).order_by(User.username)).all()]


def _throttle_wait(row: LoginThrottle | None, now: dt.datetime) -> int:
    """Return the seconds this key must still wait before another attempt is considered."""
    if row is None:
        return 0
    locked_until = _aware(row.locked_until)
    if locked_until is not None and locked_until > now:
        return int((locked_until - now).total_seconds()) + 1
    last = _aware(row.last_failure_at) or now
    if now - last > FORGET_AFTER or row.failures < FREE_FAILURES:
        return 0
    # 2, 4, 8 … seconds after the free attempts are used up.
    delay = dt.timedelta(seconds=2 ** (row.failures - FREE_FAILURES + 1))
    remaining = (last + delay) - now
    return max(0, int(remaining.total_seconds()) + 1) if remaining.total_seconds() > 0 else 0


def authenticate(cat: Catalogue, username: str, password: str, address: str) -> LoginResult:
    """Check a login; count failures per account and per address, refusing while throttled."""
    username = username.strip().lower()[:64]
    keys = [f"user:{username}", f"addr:{address[:100]}"]
    now = _now()
    with cat.sessions() as session:
        rows = {row.key: row for row in session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))}
        wait = max(_throttle_wait(rows.get(k), now) for k in keys)
        if wait:
            return LoginResult(account=None, retry_after=wait)
        user = session.scalar(select(User).where(User.username == username))
        ok = False
        if user is not None and user.active and len(password) <= MAX_PASSWORD_LENGTH:
            try:
                ok = _hasher.verify(user.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
        else:
            # Spend the same time on unknown names, so timing does not tell which names exist.
            _hasher.hash(password[:MAX_PASSWORD_LENGTH] or "-")
        if ok and user is not None:
            for key in keys:
                if key in rows:
                    session.delete(rows[key])
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            user.last_login_at = now
            session.commit()
            return LoginResult(account=_account(user))
        for key in keys:
            row = rows.get(key)
            if row is None:
                row = LoginThrottle(key=key, failures=0, last_failure_at=now)
                session.add(row)
            elif now - (_aware(row.last_failure_at) or now) > FORGET_AFTER:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            if row.failures >= LOCK_AFTER:
                row.locked_until = now + LOCK_FOR
        session.commit()
        return LoginResult(account=None)


def change_password(cat: Catalogue, user_id: int, current: str, new: str) -> Account:
    """Change a password after checking the current one; other sessions of the account end."""
    check_password_rules(new)
    with cat.sessions() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise AccountError("gone", "This account no longer exists.")
        try:
            _hasher.verify(user.password_hash, current[:MAX_PASSWORD_LENGTH])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise AccountError("current_password", "The current password is not right.") from None
        user.password_hash = _hasher.hash(new)
        user.password_changed_at = _now()
        user.session_version += 1
        session.commit()
        return _account(user)


def set_password(cat: Catalogue, username: str, new: str) -> Account:
    """Set a password without the old one (an admin's reset, or the command line); sessions end."""
    check_password_rules(new)
    with cat.sessions() as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise AccountError("no_user", f"There is no user called {username}.", username=username)
        user.password_hash = _hasher.hash(new)
        user.password_changed_at = _now()
        user.session_version += 1
        session.commit()
        return _account(user)


def update_account(cat: Catalogue, user_id: int, *, role: str | None = None, active: bool | None = None,
                   display_name: str | None = None, institutions: tuple[str, ...] | None = None) -> Account:
    """Change an account's role, activity, name or institutions (an admin's action)."""
    with cat.sessions() as session:
        user = session.get(User, user_id)
        if user is None:
            raise AccountError("gone", "This account no longer exists.")
        if role is not None and role not in ROLES:
            raise AccountError("role", f"The role must be one of: {', '.join(ROLES)}.", roles=", ".join(ROLES))
        if _leaves_no_admin(session, user, role, active):
            raise AccountError("last_admin", "This is the last active admin: make another account an admin first.")
        if role is not None:
            user.role = role
        if active is not None and active != user.active:
            user.active = active
            user.session_version += 1
        if display_name is not None:
            user.display_name = display_name.strip()[:200]
        if institutions is not None:
            user.institutions = _institutions(session, institutions)
        session.commit()
        return _account(user)


def _leaves_no_admin(session: Session, user: User, role: str | None, active: bool | None) -> bool:
    """Tell whether demoting or deactivating this user would leave the site with no active admin."""
    if user.role != "admin" or not user.active:
        return False
    if (role is None or role == "admin") and (active is None or active):
        return False
    # FOR UPDATE so that, on PostgreSQL, two admins demoting each other at once cannot both pass
    # (the second waits and then counts again). SQLite has no row locks; two admins doing that in
    # the same instant is not worth locking the whole database for.
    others = session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True),
                                                   User.id != user.id).with_for_update()).first()
    return others is None
