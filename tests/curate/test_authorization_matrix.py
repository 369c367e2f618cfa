"""The authorization matrix of the curators' site: every route of the `curate` blueprint, for an anonymous
visitor, a curator of another institution, a curator and an admin, by GET, by POST with a valid CSRF
token and by POST without one.

The walk starts from `app.url_map`, so a route without a row in TABLE fails the test; each row says
who may use the route and how to build a concrete request for it. A refused request is answered 403 or
404 (an anonymous visitor gets the login page, or 401 for a POST) and leaves the database and the
stored files exactly as they were. An allowed GET answers 200 (or a redirect within /curate/). An
allowed POST is a real change, made on objects created for it, and the change must happen.

Who is who: `curator` may edit items held by met, `curator_other` only those held by nmaa, `admin`
everything. An item is held by its own institution, else by its collection's: npm:1195 is in met's
collection but held by npm, so the met curator may not touch it either.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.routing import Rule

from museum import create_app
from museum.catalogue.models import Base, ExhibitionEntry, ExhibitionSection, Image, ImportJob, Revision
from museum.catalogue.service import Catalogue, close_catalogue
from museum.curation import accounts, bulk_import, editing, notices
from museum.curation import exhibitions as exhibition_use
from museum.curation.accounts import Account
from museum.web import CATALOGUE_KEY
from tests.conftest import IMAGES, TEST_EXHIBIT
from tests.curate.helpers import PASSWORD, add_user, csrf_token, log_in

ANON, OTHER, CURATOR, ADMIN = "anonymous", "curator_other", "curator", "admin"
ROLES = (ANON, OTHER, CURATOR, ADMIN)
EVERYONE = frozenset(ROLES)
CURATORS = frozenset({OTHER, CURATOR, ADMIN})
ADMINS = frozenset({ADMIN})
JOB_OWNER = frozenset({CURATOR, ADMIN})        # the sample import jobs are the curator's; admins see every job
INSTITUTIONS: dict[str, tuple[str, ...]] = {OTHER: ("nmaa",), CURATOR: ("met",), ADMIN: ()}

# The sample item of each holding institution and who may edit it.
TARGETS = {"met": "met:13503", "npm": "npm:1195", "nmaa": "si:F1906.261"}
EDITORS = {"met": frozenset({CURATOR, ADMIN}), "npm": frozenset({ADMIN}), "nmaa": frozenset({OTHER, ADMIN})}
# met:13503 has two images from the exhibit; the others get two of their own (distinct files, so that a
# derivative is served only to those who may edit an item showing it).
TARGET_IMAGES = {"npm": ("mona-lisa.21x32.q50.jpeg", "hopper_orientation_3.jpg"),
                 "nmaa": ("flower2.jpg", "app13-multiple.jpg")}
REFUSED = (403, 404)
ALLOWED_POST = (200, 302, 303)


# ----- the world the matrix walks over -------------------------------------------------------


@dataclass(frozen=True)
class Exhibit:
    """A sample exhibition: two sections of two entries each, and its first revision."""

    id: int
    sections: tuple[int, int]
    entries: tuple[tuple[int, int], tuple[int, int]]
    first_seq: int


class World:
    """One app with its accounts, logged-in clients, sample objects, and makers of disposable ones."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.cat: Catalogue = app.extensions[CATALOGUE_KEY]
        self.counter = itertools.count(1)
        self.accounts: dict[str, Account] = {}
        self.clients: dict[str, FlaskClient] = {}
        self.tokens: dict[str, str] = {}
        self.known: dict[str, list[Any]] | None = None     # the state after the last refused request, if unchanged
        for role in (ADMIN, CURATOR, OTHER):
            self.accounts[role] = add_user(app, role, role="admin" if role == ADMIN else "curator",
                                           institutions=INSTITUTIONS[role])
        self.victim = add_user(app, "victim").id
        for role in ROLES:
            client = app.test_client()
            if role != ANON:
                assert log_in(client, role) == 302
            self.clients[role] = client
            self.tokens[role] = csrf_token(client, _token_page(role))

        for holder, names in TARGET_IMAGES.items():
            results = editing.add_images(self.cat, self.admin, TARGETS[holder],
                                         [editing.Upload(name, (IMAGES / name).read_bytes()) for name in names])
            assert all(result.accepted for result in results), results
        # So that restoring met:13503's first revision would be a change too.
        first = self.images(TARGETS["met"])[0]
        editing.describe_image(self.cat, self.admin, TARGETS["met"], first[0], "Caption from the setup", "Alt")
        self.trashed = {holder: self.new_item(holder, images=False, trashed=True) for holder in TARGETS}
        self.exhibit = self.new_exhibition()
        self.notice = self.new_notice()
        self.jobs = {state: self.new_job(state) for state in ("checked", "done", "failed")}

    @property
    def admin(self) -> Account:
        """Return the admin's account, who makes the sample objects."""
        return self.accounts[ADMIN]

    def n(self) -> int:
        """Return a new number, for unique names."""
        return next(self.counter)

    # ----- sample and disposable objects -----

    def images(self, item_id: str) -> list[tuple[int, str]]:
        """Return the (id, sha256) of an item's images in order."""
        with self.cat.sessions() as session:
            rows = session.execute(select(Image.id, Image.sha256).where(Image.item_id == item_id)
                                   .order_by(Image.position)).all()
        return [(int(image_id), str(sha)) for image_id, sha in rows]

    def first_seq(self, entity: str, entity_id: str) -> int:
        """Return the sequence number of an entity's first revision."""
        with self.cat.sessions() as session:
            seq = session.scalar(select(func.min(Revision.seq)).where(Revision.entity == entity,
                                                                     Revision.entity_id == entity_id))
        assert seq is not None, (entity, entity_id)
        return int(seq)

    def new_item(self, holder: str, *, images: bool = True, trashed: bool = False) -> str:
        """Create an item held by holder (recorded as created without images, then given the sample's images)."""
        n = self.n()
        item_id = editing.create_item(self.cat, self.admin, {
            "id": f"{holder}:matrix-{n}", "title": f"Matrix item {n}", "collection": "test-paintings",
            "institution": "" if holder == "met" else holder})
        if images:
            with self.cat.sessions() as session, session.begin():
                sample = session.scalars(select(Image).where(Image.item_id == TARGETS[holder])
                                         .order_by(Image.position)).all()
                for image in sample:
                    session.add(Image(item_id=item_id, position=image.position, sha256=image.sha256,
                                      format=image.format, mime_type=image.mime_type, width=image.width,
                                      height=image.height, byte_size=image.byte_size,
                                      original_filename=image.original_filename, caption=image.caption,
                                      alt_text=image.alt_text, rights=image.rights))
        if trashed:
            editing.change_status(self.cat, self.admin, item_id, "trash")
        return item_id

    def new_exhibition(self) -> Exhibit:
        """Create a draft exhibition with two sections of two published items each."""
        n = self.n()
        exhibition_id = exhibition_use.create_exhibition(self.cat, self.admin, exhibition_use.ExhibitionForm(
            slug=f"matrix-{n}", title={"en": f"Matrix exhibition {n}"}))
        sections = [exhibition_use.add_section(self.cat, self.admin, exhibition_id, {"en": f"Part {k}"},
                                               {"en": "Text."}) for k in (1, 2)]
        entries = [tuple(exhibition_use.add_entry(self.cat, self.admin, exhibition_id, section, item_id)
                         for item_id in ("met:36004", "met:435809")) for section in sections]
        return Exhibit(exhibition_id, (sections[0], sections[1]), ((entries[0][0], entries[0][1]),
                                                                   (entries[1][0], entries[1][1])),
                       self.first_seq("exhibition", str(exhibition_id)))

    def new_notice(self) -> int:
        """Create an active site notice."""
        draft = notices.NoticeDraft(message={"en": f"Matrix notice {self.n()}"})
        return notices.create_notice(self.cat, draft, "admin").id

    def new_user(self) -> int:
        """Create a curator account."""
        return add_user(self.app, f"someone{self.n()}").id

    def new_job(self, state: str) -> str:
        """Create an import job of the curator, brought to state (checked, done or failed)."""
        n = self.n()
        table = f"id,title\nmet:imported-{n},Imported row {n}\n".encode()
        curator = self.accounts[CURATOR]
        job_id = bulk_import.create_job(self.cat, curator, collection="test-paintings",
                                        table=bulk_import.Upload("rows.csv", io.BytesIO(table)))
        assert bulk_import.wait_for(job_id)
        if state == "done":
            bulk_import.start_run(self.cat, curator, job_id)
            assert bulk_import.wait_for(job_id)
        elif state == "failed":
            with self.cat.engine.begin() as connection:
                connection.execute(update(ImportJob).where(ImportJob.id == job_id)
                                   .values(state="failed", error="stopped by the test"))
        with self.cat.sessions() as session:
            assert session.scalar(select(ImportJob.state).where(ImportJob.id == job_id)) == state
        return job_id

    def own_session(self, role: str) -> tuple[FlaskClient, str]:
        """Return a new client (logged in as a new account like role's) and its CSRF token."""
        client = self.app.test_client()
        if role != ANON:
            name = f"{role.replace('_', '-')}-{self.n()}"
            add_user(self.app, name, role="admin" if role == ADMIN else "curator", institutions=INSTITUTIONS[role])
            assert log_in(client, name) == 302
        return client, csrf_token(client, _token_page(role))

    # ----- what must not change -----

    def settle(self) -> None:
        """Wait for any import job's background work (a change made by a thread counts too)."""
        with self.cat.sessions() as session:
            job_ids = list(session.scalars(select(ImportJob.id)).all())
        for job_id in job_ids:
            assert bulk_import.wait_for(job_id, timeout=60), f"import job {job_id} did not finish"

    def fingerprint(self) -> dict[str, list[Any]]:
        """Return the state that matters: every row of every catalogue table (the append-only revision log by
        its length and newest sequence, import jobs without their bulky plan and report), and the stored files.
        """
        self.settle()
        state: dict[str, list[Any]] = {}
        with self.cat.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                if table.name == "login_throttle":
                    continue
                if table.name == "revision":
                    query = select(func.count(), func.max(table.c.seq))
                elif table.name == "import_job":
                    query = select(*(c for c in table.c if c.name not in ("plan", "report")))
                else:
                    query = select(table).order_by(*table.primary_key.columns)
                state[table.name] = [tuple(row) for row in connection.execute(query)]
        settings = self.cat.settings
        for name, folder in (("originals", Path(settings.originals_dir)), ("imports", settings.data_dir / "imports")):
            state[f"{name} files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) \
                if folder.exists() else []
        return state

    def unchanged_since_last_refusal(self) -> dict[str, list[Any]]:
        """Return the state before a refused request: the one after the last refusal, unless allowed requests
        (or objects made for them) came since.
        """
        return self.known if self.known is not None else self.fingerprint()

    def after_refusal(self) -> dict[str, list[Any]]:
        """Return the state after a refused request, remembered for the next one."""
        self.known = self.fingerprint()
        return self.known


def _token_page(role: str) -> str:
    """Return a page with a form the role can see, to read its session's CSRF token from."""
    return "/curate/login" if role == ANON else "/curate/account/password"


def _changes(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    """Return the names of the tables (and file stores) that differ."""
    return [name for name in before if before[name] != after.get(name)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Return one app over the test exhibit with every role logged in and the sample objects made."""
    data = tmp_path_factory.mktemp("authorization-matrix")
    app = create_app({"data_dir": str(data / "data"), "exhibit_dir": str(TEST_EXHIBIT), "page_size": 4})
    app.config["TESTING"] = True
    with pytest.MonkeyPatch.context() as patch:
        # Cheaper Argon2 parameters for the many accounts made here (a hash names its own parameters).
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        try:
            yield World(app)
        finally:
            close_catalogue(app.extensions[CATALOGUE_KEY])


# ----- the table: every route, who may use it, and a concrete request ---------------------------


@dataclass
class Req:
    """A concrete request: its path, its form, and how to tell that an allowed POST did its work.

    Without `effect`, an allowed POST must change the database or the stored files.
    """

    path: str
    data: dict[str, Any] = field(default_factory=dict)
    effect: Callable[[FlaskClient], str] | None = None      # returns what is wrong, "" when all is well


# A builder gets the world, the role and whether the request is an allowed POST (`fresh`): those act on
# disposable objects made for them; every other request uses the sample objects, which must survive.
Builder = Callable[[World, str, bool], Req]


@dataclass(frozen=True)
class Case:
    """One way of calling a route: a label, the roles that may, and how to build the request."""

    label: str
    allowed: frozenset[str]
    build: Builder
    own_session: bool = False    # an allowed POST goes through a new session (logging in or out, passwords)


def _get_status(client: FlaskClient, path: str) -> tuple[int, str]:
    """GET; return the status and the Location header."""
    with client.get(path) as response:
        return response.status_code, response.headers.get("Location", "")


def _to_login(location: str) -> bool:
    """Tell whether a redirect goes to the login page."""
    return urlsplit(location).path == "/curate/login"


def _logged_in(client: FlaskClient) -> str:
    """Return a problem unless the client's session is logged in."""
    status, location = _get_status(client, "/curate/")
    return "" if status == 200 else f"the session is not logged in afterwards ({status} {location})"


def _logged_out(client: FlaskClient) -> str:
    """Return a problem unless the client's session is logged out."""
    status, location = _get_status(client, "/curate/")
    return "" if status == 302 and _to_login(location) else f"the session is still logged in ({status})"


def _page(path: str) -> Builder:
    """Return a builder of a plain page."""
    return lambda w, role, fresh: Req(path)


def _login(w: World, role: str, fresh: bool) -> Req:
    return Req("/curate/login", {"username": "victim", "password": PASSWORD}, effect=_logged_in)


def _logout(w: World, role: str, fresh: bool) -> Req:
    return Req("/curate/logout", effect=_logged_out)


def _password(w: World, role: str, fresh: bool) -> Req:
    new = "another correct horse"
    return Req("/curate/account/password", {"current_password": PASSWORD, "new_password": new,
                                            "confirm_password": new})


def _new_item(w: World, role: str, fresh: bool) -> Req:
    # Each role creates an item its own institution holds (met's through the collection).
    institution = {OTHER: "nmaa", ADMIN: "npm"}.get(role, "")
    return Req("/curate/items/new", {"title": f"New item {w.n()}", "collection": "test-paintings",
                                     "institution": institution})


# Items: one case per holding institution; an allowed POST works on a new item of that institution.

ItemBuilder = Callable[[str], Builder]


def _item_edit(holder: str) -> Builder:
    def build(w: World, role: str, fresh: bool) -> Req:
        item_id = w.new_item(holder) if fresh else TARGETS[holder]
        view = editing.load_item(w.cat, w.admin, item_id)
        return Req(f"/curate/items/{item_id}/edit", {**view.values, "title": f"Edited {w.n()}",
                                                     "base_seq": str(view.seq)})
    return build


def _item_history(holder: str) -> Builder:
    return _page(f"/curate/items/{TARGETS[holder]}/history")


def _item_status(holder: str) -> Builder:
    def build(w: World, role: str, fresh: bool) -> Req:
        item_id = w.new_item(holder) if fresh else TARGETS[holder]
        return Req(f"/curate/items/{item_id}/status", {"action": "trash"})
    return build


def _item_purge(holder: str) -> Builder:
    def build(w: World, role: str, fresh: bool) -> Req:
        item_id = w.new_item(holder, images=False, trashed=True) if fresh else w.trashed[holder]
        return Req(f"/curate/items/{item_id}/purge", {"confirm": "yes"})
    return build


def _item_upload(holder: str) -> Builder:
    def build(w: World, role: str, fresh: bool) -> Req:
        item_id = w.new_item(holder) if fresh else TARGETS[holder]
        name = "uncompressed_la.png" if fresh else "basn4a16.png"    # neither is stored before
        return Req(f"/curate/items/{item_id}/images",
                   {"images": (io.BytesIO((IMAGES / name).read_bytes()), name)})
    return build


def _item_image(holder: str, action: str, data: dict[str, str]) -> Builder:
    def build(w: World, role: str, fresh: bool) -> Req:
        item_id = w.new_item(holder) if fresh else TARGETS[holder]
        image_id = w.images(item_id)[0][0]
        return Req(f"/curate/items/{item_id}/images/{image_id}/{action}", dict(data))
    return build


def _item_restore(holder: str) -> Builder:
    # The first revision has no images (or, for met:13503, another caption), so restoring it is a change.
    def build(w: World, role: str, fresh: bool) -> Req:
        item_id = w.new_item(holder) if fresh else TARGETS[holder]
        return Req(f"/curate/items/{item_id}/history/{w.first_seq('item', item_id)}/restore")
    return build


def _item_media(holder: str) -> Builder:
    def build(w: World, role: str, fresh: bool) -> Req:
        sha = w.images(TARGETS[holder])[0][1]
        return Req(f"/curate/media/{sha}/thumb.jpeg")
    return build


def _per_holder(make: ItemBuilder, allowed: frozenset[str] | None = None) -> tuple[Case, ...]:
    """Return one case per holding institution of the sample items."""
    return tuple(Case(f"item of {holder}", allowed or EDITORS[holder], make(holder)) for holder in TARGETS)


# Exhibitions: every curator may build every exhibition; an allowed POST works on a new exhibition.


def _exhibition(path: str, data: dict[str, str] | None = None) -> Builder:
    """Return a builder of an exhibition request; path is formatted with e (an Exhibit) and n."""
    def build(w: World, role: str, fresh: bool) -> Req:
        exhibit = w.new_exhibition() if fresh else w.exhibit
        n = w.n()
        return Req(path.format(e=exhibit, n=n), {k: v.format(e=exhibit, n=n) for k, v in (data or {}).items()})
    return build


def _new_import(w: World, role: str, fresh: bool) -> Req:
    n = w.n()
    institution = {OTHER: "nmaa", ADMIN: "npm"}.get(role, "met")
    table = f"id,title\n{institution}:probe-{n},Probe row {n}\n".encode()
    return Req("/curate/imports/new", {"target": "new", "new_slug": f"probe-{n}", "new_title": f"Probe {n}",
                                       "new_institution": institution,
                                       "table": (io.BytesIO(table), "rows.csv")})


def _job(path: str, state: str, data: dict[str, str] | None = None) -> Builder:
    """Return a builder of a request about an import job of the curator in state."""
    def build(w: World, role: str, fresh: bool) -> Req:
        job_id = w.new_job(state) if fresh else w.jobs[state]
        return Req(path.format(job=job_id), dict(data or {}))
    return build


def _user(path: str, data: dict[str, str] | None = None) -> Builder:
    def build(w: World, role: str, fresh: bool) -> Req:
        user_id = w.new_user() if fresh else w.victim
        return Req(path.format(user=user_id), dict(data or {}))
    return build


def _new_user(w: World, role: str, fresh: bool) -> Req:
    return Req("/curate/users/new", {"username": f"newcomer{w.n()}", "display_name": "Newcomer", "role": "admin",
                                     "password": PASSWORD, "confirm_password": PASSWORD})


def _notice(path: str, data: dict[str, str] | None = None) -> Builder:
    def build(w: World, role: str, fresh: bool) -> Req:
        notice_id = w.new_notice() if fresh else w.notice
        return Req(path.format(notice=notice_id), {k: v.format(n=w.n()) for k, v in (data or {}).items()})
    return build


def _one(allowed: frozenset[str], build: Builder, own_session: bool = False) -> tuple[Case, ...]:
    """Return the single case of a route without sample-dependent variants."""
    return (Case("", allowed, build, own_session),)


EX = "/curate/exhibitions/{e.id}"
TABLE: dict[str, tuple[Case, ...]] = {
    # public
    "curate.login": _one(EVERYONE, _login, own_session=True),
    "curate.logout": _one(EVERYONE, _logout, own_session=True),
    # any logged-in curator
    "curate.change_password": _one(CURATORS, _password, own_session=True),
    "curate.dashboard": _one(CURATORS, _page("/curate/")),
    "curate.trash": _one(CURATORS, _page("/curate/trash")),
    "curate.new_item": _one(CURATORS, _new_item),
    "curate.exhibitions": _one(CURATORS, _page("/curate/exhibitions")),
    "curate.new_exhibition": _one(CURATORS, _exhibition("/curate/exhibitions/new",
                                                        {"title.en": "Probe {n}", "slug": "probe-{n}"})),
    "curate.edit_exhibition": _one(CURATORS, _exhibition(EX)),
    "curate.update_exhibition": _one(CURATORS, _exhibition(EX, {"title.en": "Retitled {n}", "slug": "retitled-{n}"})),
    "curate.exhibition_status": _one(CURATORS, _exhibition(EX + "/status", {"status": "published"})),
    "curate.exhibition_history": _one(CURATORS, _exhibition(EX + "/history")),
    "curate.preview_exhibition": _one(CURATORS, _exhibition(EX + "/preview")),
    "curate.restore_revision": _one(CURATORS, _exhibition(EX + "/history/{e.first_seq}/restore")),
    "curate.add_section": _one(CURATORS, _exhibition(EX + "/sections", {"heading.en": "Added {n}"})),
    "curate.update_section": _one(CURATORS, _exhibition(EX + "/sections/{e.sections[0]}",
                                                        {"heading.en": "Changed {n}"})),
    "curate.move_section": _one(CURATORS, _exhibition(EX + "/sections/{e.sections[1]}/move", {"direction": "up"})),
    "curate.remove_section": _one(CURATORS, _exhibition(EX + "/sections/{e.sections[0]}/remove")),
    "curate.add_entry": _one(CURATORS, _exhibition(EX + "/sections/{e.sections[0]}/items",
                                                   {"item_id": "si:F1906.261"})),
    "curate.update_entry": _one(CURATORS, _exhibition(EX + "/items/{e.entries[0][0]}", {"caption.en": "Said {n}"})),
    "curate.move_entry": _one(CURATORS, _exhibition(EX + "/items/{e.entries[0][1]}/move", {"direction": "up"})),
    "curate.remove_entry": _one(CURATORS, _exhibition(EX + "/items/{e.entries[0][0]}/remove")),
    "curate.imports": _one(CURATORS, _page("/curate/imports")),
    "curate.new_import": _one(CURATORS, _new_import),
    # the owner of an import job (and admins)
    "curate.import_job": _one(JOB_OWNER, _job("/curate/imports/{job}", "done")),
    "curate.import_progress": _one(JOB_OWNER, _job("/curate/imports/{job}/progress", "done")),
    "curate.run_import": _one(JOB_OWNER, _job("/curate/imports/{job}/run", "checked")),
    "curate.resume_import": _one(JOB_OWNER, _job("/curate/imports/{job}/resume", "failed")),
    "curate.undo_import": _one(JOB_OWNER, _job("/curate/imports/{job}/undo", "done", {"confirm": "yes"})),
    "curate.discard_import": _one(JOB_OWNER, _job("/curate/imports/{job}/discard", "checked")),
    # curators who may edit the item (admins always)
    "curate.edit_item": _per_holder(_item_edit),
    "curate.item_history": _per_holder(_item_history),
    "curate.restore_item_revision": _per_holder(_item_restore),
    "curate.change_item_status": _per_holder(_item_status),
    "curate.upload_item_images": _per_holder(_item_upload),
    "curate.move_item_image": _per_holder(lambda h: _item_image(h, "move", {"to": "1"})),
    "curate.describe_item_image": _per_holder(lambda h: _item_image(h, "describe", {"caption": "Said",
                                                                                    "alt_text": "Shown"})),
    "curate.remove_item_image": _per_holder(lambda h: _item_image(h, "remove", {})),
    "curate.item_media": _per_holder(_item_media),
    # admins only
    "curate.purge_item": _per_holder(_item_purge, ADMINS),
    "curate.activity": _one(ADMINS, _page("/curate/activity")),
    "curate.users": _one(ADMINS, _page("/curate/users")),
    "curate.new_user": _one(ADMINS, _new_user),
    "curate.edit_user": _one(ADMINS, _user("/curate/users/{user}", {"display_name": "Renamed", "role": "admin",
                                                                    "active": "1"})),
    "curate.reset_password": _one(ADMINS, _user("/curate/users/{user}/password", {"generate": "1"})),
    "curate.notices": _one(ADMINS, _page("/curate/notices")),
    "curate.new_notice": _one(ADMINS, _notice("/curate/notices/new", {"message_en": "Notice {n}", "active": "1"})),
    "curate.edit_notice": _one(ADMINS, _notice("/curate/notices/{notice}", {"message_en": "Changed {n}",
                                                                            "active": "1"})),
    "curate.deactivate_notice": _one(ADMINS, _notice("/curate/notices/{notice}/deactivate")),
    "curate.delete_notice": _one(ADMINS, _notice("/curate/notices/{notice}/delete")),
}


# ----- the walk ----------------------------------------------------------------------------------


def _curate_rules(app: Flask) -> list[Rule]:
    """Return every rule of the curate blueprint, in path order."""
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith("curate.")), key=lambda r: r.rule)


@dataclass
class Walk:
    """What one role's walk found: problems, and how many checks it made."""

    problems: list[str] = field(default_factory=list)
    checks: int = 0


def _check_get(w: World, role: str, case: Case, where: str, walk: Walk) -> None:
    req = case.build(w, role, False)
    walk.checks += 1
    if role in case.allowed:
        w.known = None
        status, location = _get_status(w.clients[role], req.path)
        sensible = status in (302, 303) and urlsplit(location).path.startswith("/curate/") and not _to_login(location)
        if status != 200 and not sensible:
            walk.problems.append(f"{where}: GET {req.path} answered {status} {location}, expected 200")
        return
    before = w.unchanged_since_last_refusal()
    status, location = _get_status(w.clients[role], req.path)
    if role == ANON and not (status == 302 and _to_login(location)):
        walk.problems.append(f"{where}: GET {req.path} answered {status} {location}, expected 302 to the login page")
    elif role != ANON and status not in REFUSED:
        walk.problems.append(f"{where}: GET {req.path} answered {status} {location}, expected 403 or 404")
    if changed := _changes(before, w.after_refusal()):
        walk.problems.append(f"{where}: refused GET {req.path} changed {', '.join(changed)}")


def _post(client: FlaskClient, path: str, data: dict[str, Any]) -> tuple[int, str]:
    """POST a form (multipart when it holds a file); return the status and the Location header."""
    with client.post(path, data=data) as response:
        return response.status_code, response.headers.get("Location", "")


def _check_post(w: World, role: str, case: Case, where: str, walk: Walk) -> None:
    allowed = role in case.allowed
    if allowed:
        w.known = None
    req = case.build(w, role, allowed)
    client, token = w.own_session(role) if allowed and case.own_session else (w.clients[role], w.tokens[role])
    walk.checks += 1
    before = w.fingerprint() if allowed else w.unchanged_since_last_refusal()
    status, location = _post(client, req.path, {**req.data, "csrf_token": token})
    changed = _changes(before, w.fingerprint() if allowed else w.after_refusal())
    if allowed:
        if status not in ALLOWED_POST or (_to_login(location) and req.effect is not _logged_out):
            walk.problems.append(f"{where}: allowed POST {req.path} answered {status} {location}")
        elif req.effect is not None:
            if problem := req.effect(client):
                walk.problems.append(f"{where}: allowed POST {req.path}: {problem}")
        elif not changed:
            walk.problems.append(f"{where}: allowed POST {req.path} answered {status} but changed nothing")
        return
    if role == ANON and not (status == 401 or (status == 302 and _to_login(location))):
        walk.problems.append(f"{where}: POST {req.path} answered {status} {location}, expected 401")
    elif role != ANON and status not in REFUSED:
        walk.problems.append(f"{where}: POST {req.path} answered {status} {location}, expected 403 or 404")
    if changed:
        walk.problems.append(f"{where}: refused POST {req.path} changed {', '.join(changed)}")


def _check_post_without_token(w: World, role: str, case: Case, where: str, walk: Walk) -> None:
    req = case.build(w, role, False)
    walk.checks += 1
    before = w.unchanged_since_last_refusal()
    status, location = _post(w.clients[role], req.path, req.data)
    expected = (400, 401) if role == ANON else (400,)     # anonymous: refused by the login check or the token's
    if status not in expected:
        walk.problems.append(f"{where}: POST {req.path} without a CSRF token answered {status} {location}, "
                             f"expected {' or '.join(map(str, expected))}")
    if changed := _changes(before, w.after_refusal()):
        walk.problems.append(f"{where}: POST {req.path} without a CSRF token changed {', '.join(changed)}")


def _walk(w: World, role: str) -> Walk:
    walk = Walk()
    w.known = None
    for rule in _curate_rules(w.app):
        cases = TABLE.get(rule.endpoint)
        if cases is None:
            walk.problems.append(f"{rule.endpoint} ({rule.rule}) has no row in TABLE: say who may use it")
            continue
        methods = sorted((rule.methods or set()) & {"GET", "POST"})
        for case in cases:
            where = f"{rule.endpoint}{f' [{case.label}]' if case.label else ''} as {role}"
            for method in methods:
                if method == "GET":
                    _check_get(w, role, case, where, walk)
                else:
                    _check_post(w, role, case, where, walk)
                    _check_post_without_token(w, role, case, where, walk)
    # The role's own session went through the walk unchanged (a logout without the token did nothing).
    if problem := (_logged_out if role == ANON else _logged_in)(w.clients[role]):
        walk.problems.append(f"{role}'s own session after the walk: {problem}")
    return walk


# ----- the tests ---------------------------------------------------------------------------------


def test_the_table_names_every_curate_route_and_nothing_else(world: World) -> None:
    endpoints = {rule.endpoint for rule in _curate_rules(world.app)}
    missing = sorted(endpoints - set(TABLE))
    assert not missing, f"curate routes missing from the authorization TABLE (say who may use them): {missing}"
    stale = sorted(set(TABLE) - endpoints)
    assert not stale, f"TABLE names routes the app no longer has: {stale}"
    assert all(case.allowed <= EVERYONE and ADMIN in case.allowed for cases in TABLE.values() for case in cases)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_lets_in_exactly_who_may_use_it(world: World, role: str) -> None:
    walk = _walk(world, role)
    assert walk.checks > 100
    assert not walk.problems, f"{len(walk.problems)} of {walk.checks} checks failed:\n" + "\n".join(walk.problems)


def test_lists_and_finders_show_only_what_the_curator_may_edit(world: World) -> None:
    w = world
    problems: list[str] = []

    def shows(role: str, path: str, text: str, expected: bool) -> None:
        with w.clients[role].get(path) as response:
            page = response.get_data(as_text=True)
        assert response.status_code == 200, (role, path, response.status_code)
        if (text in page) != expected:
            problems.append(f"{role}: {path} {'does not show' if expected else 'shows'} {text}")

    for role, holder, expected in [(CURATOR, "met", True), (CURATOR, "npm", False), (CURATOR, "nmaa", False),
                                   (OTHER, "met", False), (OTHER, "npm", False), (OTHER, "nmaa", True),
                                   (ADMIN, "npm", True)]:
        item_id, trashed = TARGETS[holder], w.trashed[holder]
        shows(role, f"/curate/?q={item_id}", f'/curate/items/{item_id}/edit"', expected)
        shows(role, f"/curate/trash?q={trashed}", f'/curate/items/{trashed}/edit"', expected)
    # Import jobs are their owner's (and the admins').
    for role, expected in [(CURATOR, True), (OTHER, False), (ADMIN, True)]:
        shows(role, "/curate/imports", w.jobs["done"], expected)
    # The exhibition editor's item finder offers another institution's drafts to nobody but admins.
    finder = f"/curate/exhibitions/{w.exhibit.id}?section={w.exhibit.sections[0]}&find=544227"
    for role, expected in [(CURATOR, True), (OTHER, False), (ADMIN, True)]:
        shows(role, finder, "met:544227", expected)
    assert not problems, "\n".join(problems)


def test_writes_within_shared_routes_stay_within_the_curators_institutions(world: World) -> None:
    w = world
    met_values = editing.load_item(w.cat, w.admin, TARGETS["met"]).values
    exhibit_fields = {"title.en": "Matrix", "slug": f"matrix-{w.exhibit.id}-kept"}
    new_item = {"title": "Not mine", "collection": "test-paintings"}
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        (CURATOR, "/curate/items/new", {**new_item, "institution": "npm"}),
        (OTHER, "/curate/items/new", {**new_item, "institution": ""}),          # held by the collection's met
        (CURATOR, f"/curate/items/{TARGETS['met']}/edit", {**met_values, "institution": "npm"}),
        (OTHER, f"/curate/exhibitions/{w.exhibit.id}/sections/{w.exhibit.sections[0]}/items",
         {"item_id": "met:544227"}),                                             # a draft of met
        (OTHER, f"/curate/exhibitions/{w.exhibit.id}", {**exhibit_fields, "cover_item_id": "met:544227"}),
        (OTHER, "/curate/imports/new", {"target": "existing", "collection": "test-paintings",
                                        "table": (io.BytesIO(b"id,title\nx:1,X\n"), "rows.csv")}),
        (OTHER, "/curate/imports/new", {"target": "new", "new_slug": "not-mine", "new_title": "Not mine",
                                        "new_institution": "met",
                                        "table": (io.BytesIO(b"id,title\nx:1,X\n"), "rows.csv")}),
    ]
    problems: list[str] = []
    for role, path, data in attempts:
        before = w.fingerprint()
        status, location = _post(w.clients[role], path, {**data, "csrf_token": w.tokens[role]})
        if status != 400:
            problems.append(f"{role}: POST {path} answered {status} {location}, expected 400")
        if changed := _changes(before, w.fingerprint()):
            problems.append(f"{role}: POST {path} changed {', '.join(changed)}")
    assert not problems, "\n".join(problems)


RESTORE_BUG = ("museum/curation/exhibitions.py restore_revision brings entries back without the rules of add_entry: "
               "a curator restores another institution's draft (or a trashed item) into an exhibition")


def test_restoring_an_exhibition_does_not_bring_back_items_the_curator_may_not_add(world: World) -> None:
    w = world
    exhibit = w.new_exhibition()
    section = f"/curate/exhibitions/{exhibit.id}/sections/{exhibit.sections[0]}/items"
    # The met curator shows met's draft, then takes it out again.
    # (Steps that must work fail the test outright, not as the expected failure.)
    if _post(w.clients[CURATOR], section, {"item_id": "met:544227", "csrf_token": w.tokens[CURATOR]})[0] != 302:
        pytest.fail("the met curator could not add met's draft")
    with w.cat.sessions() as session:
        entry_id, with_draft = session.execute(
            select(ExhibitionEntry.id, select(func.max(Revision.seq)).where(
                Revision.entity == "exhibition", Revision.entity_id == str(exhibit.id)).scalar_subquery())
            .where(ExhibitionEntry.section_id == exhibit.sections[0], ExhibitionEntry.item_id == "met:544227")).one()
    remove = f"/curate/exhibitions/{exhibit.id}/items/{entry_id}/remove"
    if _post(w.clients[CURATOR], remove, {"csrf_token": w.tokens[CURATOR]})[0] != 302:
        pytest.fail("the met curator could not take the draft out")
    # The nmaa curator may not add that draft (the editor refuses it) ...
    if _post(w.clients[OTHER], section, {"item_id": "met:544227", "csrf_token": w.tokens[OTHER]})[0] != 400:
        pytest.fail("the nmaa curator could add met's draft directly")
    # ... so restoring the version that showed it must not show it again either.
    restore = f"/curate/exhibitions/{exhibit.id}/history/{with_draft}/restore"
    _post(w.clients[OTHER], restore, {"csrf_token": w.tokens[OTHER]})
    with w.cat.sessions() as session:
        shown = session.scalars(select(ExhibitionEntry.item_id).where(
            ExhibitionEntry.section_id.in_(select(ExhibitionSection.id).where(
                ExhibitionSection.exhibition_id == exhibit.id)))).all()
    assert "met:544227" not in shown
