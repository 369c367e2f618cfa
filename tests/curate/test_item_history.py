"""Item history and restore, purge keeping the history, and the administrators' activity log."""

from __future__ import annotations

import re

from flask import Flask

from museum.catalogue.service import set_item_status
from museum.web import CATALOGUE_KEY
from tests.conftest import IMAGES, AppFactory
from tests.curate.helpers import add_user, log_in
from tests.curate.test_items import (
    HARVESTERS,
    HIBISCUS,
    SHEEP,
    XISHAN,
    admin_client,
    english,
    found,
    item_row,
    page,
    post,
    public,
    revisions,
    save,
    set_status,
    upload,
)


def _entry(html: str, seq: int) -> str:
    """Return the text of one version's entry on a history page."""
    match = re.search(rf'<li class="history-entry">\s*<h2 class="history-title">Version {seq} .*?</li>\s*'
                      r'(?=<li class="history-entry">|</ol>)', html, re.S)
    assert match, f"no version {seq}"
    return match.group(0)


def test_the_history_says_who_changed_what_and_restores_any_version(database_url: str, make_app: AppFactory) -> None:
    app = make_app(database_url=database_url)
    client = admin_client(app)
    start = revisions(app, HIBISCUS)[-1]
    shas = [i.sha256 for i in item_row(app, HIBISCUS).images]      # type: ignore[union-attr]
    assert save(client, HIBISCUS, title="Hibiscus & Parrots <i>", creator="L. C. Tiffany")[0] == 200
    first = item_row(app, HIBISCUS).images[0]                        # type: ignore[union-attr]
    assert post(client, f"/curate/items/{HIBISCUS}/images/{first.id}/remove", {})[0] == 303
    status, answer = upload(client, HIBISCUS, IMAGES / "flower2.jpg")
    assert status == 200
    assert set_status(client, HIBISCUS, "withdraw") == 303
    actions = [r.action for r in revisions(app, HIBISCUS)]
    assert actions[-4:] == ["update", "image-remove", "image-add", "draft"]
    edit, removal, addition, _draft = revisions(app, HIBISCUS)[-4:]

    status, html = page(client, f"/curate/items/{HIBISCUS}/history")
    assert status == 200
    entry = _entry(html, edit.seq)
    assert "Edited" in entry and "by ada" in entry
    assert "Hibiscus and Parrots" in entry and "Hibiscus &amp; Parrots &lt;i&gt;" in entry and "L. C. Tiffany" in entry
    assert "<i>" not in entry
    assert "Images removed: hibiscus.regular.jpeg" in _entry(html, removal.seq)
    assert "Images added: flower2.jpg" in _entry(html, addition.seq)
    assert "Draft" in _entry(html, _draft.seq)
    # The import that made the item is there, with its batch.
    assert "import " in _entry(html, start.seq)
    # Every version but the newest can be restored.
    assert html.count("Restore this version") == len(revisions(app, HIBISCUS)) - 1

    # Restore the imported version: fields and images come back (by hash); the status stays.
    status, _, location = post(client, f"/curate/items/{HIBISCUS}/history/{start.seq}/restore", {})
    assert status == 303 and location.endswith(f"/curate/items/{HIBISCUS}/history")
    row = item_row(app, HIBISCUS)
    assert row is not None and row.title == "Hibiscus and Parrots" and row.creator != "L. C. Tiffany"
    assert [i.sha256 for i in row.images] == shas and row.status == "draft"
    newest = revisions(app, HIBISCUS)[-1]
    assert newest.action == "restore" and newest.actor == "ada"
    assert {k: v for k, v in newest.snapshot.items() if k != "status"} == \
        {k: v for k, v in start.snapshot.items() if k != "status"}
    assert set_status(client, HIBISCUS, "publish") == 303
    status, html = public(client, HIBISCUS)
    assert status == 200 and "Hibiscus and Parrots" in html and shas[0] in html
    assert found(client, "Hibiscus", HIBISCUS) and not found(client, "Tiffany L. C.", HIBISCUS)

    # Restoring the version with the edited title brings it back to the public at once.
    status, _, _ = post(client, f"/curate/items/{HIBISCUS}/history/{edit.seq}/restore", {})
    assert item_row(app, HIBISCUS).title == "Hibiscus & Parrots <i>"      # type: ignore[union-attr]
    status, html = public(client, HIBISCUS)
    assert "Hibiscus &amp; Parrots &lt;i&gt;" in html and "Parrots <i>" not in html
    assert [i.sha256 for i in item_row(app, HIBISCUS).images] == shas     # type: ignore[union-attr]
    # Restoring the current state again changes nothing and writes nothing.
    count = len(revisions(app, HIBISCUS))
    status, html, _ = post(client, f"/curate/items/{HIBISCUS}/history/{edit.seq}/restore", {},
                           follow_redirects=True)
    assert "already as in version" in html and len(revisions(app, HIBISCUS)) == count
    # A revision of another item, or none at all, is not this item's.
    other = revisions(app, HARVESTERS)[-1].seq
    assert post(client, f"/curate/items/{HIBISCUS}/history/{other}/restore", {})[0] == 404
    assert post(client, f"/curate/items/{HIBISCUS}/history/999999/restore", {})[0] == 404


def test_a_purged_item_keeps_its_history_and_an_admin_can_bring_it_back(app: Flask) -> None:
    client = admin_client(app)
    sha = item_row(app, HARVESTERS).images[0].sha256                 # type: ignore[union-attr]
    assert set_status(client, HARVESTERS, "trash") == 303
    assert post(client, f"/curate/items/{HARVESTERS}/purge", {"confirm": "yes"})[0] == 303
    assert item_row(app, HARVESTERS) is None
    status, html = page(client, f"/curate/items/{HARVESTERS}/history")
    assert status == 200 and "has been purged" in html and "Purged" in html
    assert page(client, f"/curate/items/{HARVESTERS}/edit")[0] == 404
    # A curator limited to another institution may not read it; one of the holder's may, but
    # only an admin brings a purged item back.
    add_user(app, "nina", institutions=("npm",))
    nina = english(app.test_client())
    assert log_in(nina, "nina") == 302
    assert page(nina, f"/curate/items/{HARVESTERS}/history")[0] == 403
    add_user(app, "mark", institutions=("met",))
    mark = english(app.test_client())
    assert log_in(mark, "mark") == 302
    status, html = page(mark, f"/curate/items/{HARVESTERS}/history")
    assert status == 200 and "Restore this version" not in html
    purge = revisions(app, HARVESTERS)[-1]
    assert post(mark, f"/curate/items/{HARVESTERS}/history/{purge.seq}/restore", {})[0] == 403

    status, _, _ = post(client, f"/curate/items/{HARVESTERS}/history/{purge.seq}/restore", {})
    row = item_row(app, HARVESTERS)
    assert row is not None and row.status == "draft" and row.title == "The Harvesters"
    assert [i.sha256 for i in row.images] == [sha]
    assert [r.action for r in revisions(app, HARVESTERS)][-3:] == ["trashed", "purge", "restore"]
    assert public(client, HARVESTERS)[0] == 404
    assert set_status(client, HARVESTERS, "publish") == 303
    assert public(client, HARVESTERS)[0] == 200 and found(client, "Harvesters", HARVESTERS)


def test_the_activity_log_lists_every_change_for_admins_with_filters_and_pages(app: Flask) -> None:
    client = admin_client(app)
    assert save(client, SHEEP, creator="佚名")[0] == 200
    assert set_status(client, XISHAN, "withdraw") == 303
    cat = app.extensions[CATALOGUE_KEY]
    for n in range(46):      # enough changes for a second page of 50
        set_item_status(cat, HARVESTERS, "draft" if n % 2 == 0 else "published", actor="robot")
    status, html = page(client, "/curate/activity")
    assert status == 200
    seqs = [int(s) for s in re.findall(r"<tr>\s*<td>(\d+)</td>", html)]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    assert page(client, "/curate/activity?page=2")[0] == 200
    later = [int(s) for s in re.findall(r"<tr>\s*<td>(\d+)</td>", page(client, "/curate/activity?page=2")[1])]
    assert later and max(later) < min(seqs)

    status, html = page(client, "/curate/activity?actor=ada")
    assert "Edited" in html and "Set to draft" in html
    rows = re.findall(r"<tr>\s*<td>\d+</td>.*?</tr>", html, re.S)
    assert len(rows) == 2 and all("ada" in row for row in rows)
    assert f"/curate/items/{SHEEP}/history" in html and f"/curate/items/{XISHAN}/history" in html
    status, html = page(client, "/curate/activity?action=draft&actor=robot")
    assert len(re.findall(r"<tr>\s*<td>\d+</td>", html)) == 23
    status, html = page(client, "/curate/activity?entity=collection")
    assert "test-paintings" in html and "Test Paintings" in html
    for query in ("?page=abc", "?page=99999", "?actor=%00", "?entity=" + "x" * 500):
        assert page(client, "/curate/activity" + query)[0] == 200, query
    # Curators do not see it.
    add_user(app, "carl")
    carl = english(app.test_client())
    assert log_in(carl, "carl") == 302
    assert page(carl, "/curate/activity")[0] == 403
    assert "/curate/activity" not in page(carl, "/curate/")[1]
    assert "/curate/activity" in page(client, "/curate/")[1]


def test_the_history_names_institutions_and_collections_not_only_their_slugs(app: Flask) -> None:
    client = admin_client(app)
    assert save(client, HIBISCUS, institution="nmaa")[0] == 200
    change = revisions(app, HIBISCUS)[-1]
    status, html = page(client, f"/curate/items/{HIBISCUS}/history")
    assert status == 200
    entry = _entry(html, change.seq)
    # Before, the item had no institution of its own (its collection's holder applied).
    assert '<td class="before"><span class="muted">(empty)</span></td>' in entry
    assert 'National Museum of Asian Art, Smithsonian Institution <code class="small">nmaa</code>' in entry
    assert save(client, HIBISCUS, institution="npm")[0] == 200
    status, html = page(client, f"/curate/items/{HIBISCUS}/history")
    entry = _entry(html, revisions(app, HIBISCUS)[-1].seq)
    assert ('<td class="before">National Museum of Asian Art, Smithsonian Institution '
            '<code class="small">nmaa</code>') in entry
