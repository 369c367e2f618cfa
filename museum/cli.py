"""The `museum` command: init, serve, import, reindex, check and user accounts of an installation."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import click

from museum.catalogue import store
from museum.catalogue.importing import ImportFailed, import_default_exhibit_if_empty, import_path
from museum.catalogue.service import (
    Catalogue,
    catch_up_index,
    close_catalogue,
    open_catalogue,
    reindex,
)
from museum.config import Settings, ensure_secret_key, load_settings
from museum.curation.accounts import AccountError, all_accounts, create_user, set_password
from museum.images.ingest import original_path


def _settings(data_dir: str | None) -> Settings:
    """Return settings, with --data-dir taking precedence over MUSEUM_DATA_DIR."""
    overrides: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
    try:
        return ensure_secret_key(load_settings(overrides))
    except (ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from exc


def _open(data_dir: str | None) -> Catalogue:
    """Open the catalogue of the chosen data directory, or fail with a readable message."""
    settings = _settings(data_dir)
    try:
        return open_catalogue(settings)
    except Exception as exc:  # noqa: BLE001 - any connection/migration failure is reported plainly
        raise click.ClickException(f"cannot open the catalogue at {settings.resolved_database_url}: {exc}") from exc


data_dir_option = click.option("--data-dir", envvar="MUSEUM_DATA_DIR", default=None,
                               help="Data directory (default ./instance, or MUSEUM_DATA_DIR).")


@click.group()
def main() -> None:
    """Run and maintain an online museum."""


@main.command()
@data_dir_option
def init(data_dir: str | None) -> None:
    """Create or upgrade the database and import the default exhibit if the catalogue is empty."""
    cat = _open(data_dir)
    try:
        report = import_default_exhibit_if_empty(cat)
        if report is None:
            click.echo(f"Catalogue ready at {cat.settings.data_dir} (existing data kept).")
        else:
            click.echo(f"Imported the default exhibit: {report.summary()}")
            for problem in report.refused:
                click.echo(f"  refused: {problem}", err=True)
        catch_up_index(cat)
    finally:
        close_catalogue(cat)


@main.command()
@data_dir_option
@click.option("--debug", is_flag=True, help="Use Flask's reloading debug server instead of gunicorn.")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option("--workers", type=int, default=None, help="gunicorn worker processes (default 2).")
def serve(data_dir: str | None, debug: bool, host: str | None, port: int | None,
          workers: int | None) -> None:
    """Serve the site: gunicorn in production mode, Flask's server with --debug."""
    settings = _settings(data_dir)
    host = host or settings.host
    port = port or settings.port
    cat = _open(data_dir)
    try:
        report = import_default_exhibit_if_empty(cat)
        if report is not None:
            click.echo(f"Imported the default exhibit: {report.summary()}")
        catch_up_index(cat)
    finally:
        close_catalogue(cat)
    overrides = {"data_dir": str(settings.data_dir)}
    if debug:
        from museum import create_app

        create_app(overrides).run(host=host, port=port, debug=True)
        return
    from museum.serving import run_gunicorn

    click.echo(f"Serving {settings.data_dir} at http://{host}:{port}/")
    run_gunicorn(overrides, bind=f"{host}:{port}", workers=workers or settings.workers)


def _progress_printer(label: str) -> Any:
    """Return a progress callback that draws a click progress bar."""
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"], state["done"] = bar, 0
        bar.update(done - state["done"])
        state["done"] = done
        if done >= total:
            bar.__exit__(None, None, None)
            state.clear()

    def finish() -> None:
        bar = state.get("bar")
        if bar is not None:
            bar.__exit__(None, None, None)
            state.clear()

    update.finish = finish  # type: ignore[attr-defined]
    return update


@main.command("import")
@data_dir_option
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--collection", default=None, help="Put every row of a CSV into this collection slug.")
@click.option("--institution", default=None, help="Institution slug for collections a CSV creates.")
def import_command(data_dir: str | None, path: Path, collection: str | None,
                   institution: str | None) -> None:
    """Import a collection folder, a folder of collections, or a CSV file (upsert by id)."""
    cat = _open(data_dir)
    progress = _progress_printer("Importing")
    try:
        report = import_path(cat, path, collection=collection, institution=institution,
                             progress=progress)
    except ImportFailed as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        progress.finish()
        close_catalogue(cat)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.refused:
        click.echo(f"refused: {problem}", err=True)
    click.echo(report.summary())
    if report.refused:
        sys.exit(1 if not (report.created or report.updated or report.unchanged) else 0)


@main.command("reindex")
@data_dir_option
def reindex_command(data_dir: str | None) -> None:
    """Rebuild the search index beside the live one and swap it in."""
    cat = _open(data_dir)
    try:
        count = reindex(cat)
    finally:
        close_catalogue(cat)
    click.echo(f"Index rebuilt: {count} published items.")


@main.command()
@data_dir_option
def check(data_dir: str | None) -> None:
    """Verify originals against their hashes and the index against the database; list unread dates."""
    cat = _open(data_dir)
    problems: list[str] = []
    try:
        with cat.sessions() as session:
            images = store.all_images(session)
            checked: set[str] = set()
            for image in images:
                if image.sha256 in checked:
                    continue
                checked.add(image.sha256)
                path = original_path(cat.settings.originals_dir, image.sha256, image.format)
                if not path.is_file():
                    problems.append(f"missing original for {image.item_id} image {image.position}: {path}")
                    continue
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest != image.sha256:
                    problems.append(f"original changed on disk for {image.item_id}: {path}")
            published = store.published_ids(session)
            undated = store.undated_items(session)
        catch_up_index(cat)
        indexed = cat.index.document_ids()
        for item_id in sorted(published - indexed):
            problems.append(f"published item missing from the index: {item_id}")
        for item_id in sorted(indexed - published):
            problems.append(f"index holds an item that is not published: {item_id}")
    finally:
        close_catalogue(cat)
    click.echo(f"Checked {len(checked)} original images and {len(published)} published items.")
    if undated:
        # Not a fault: the text is kept and shown; listed so a curator can add years by hand.
        click.echo(f"Dates kept as text only (no years could be read from them): {len(undated)}")
        for item_id, text in undated:
            click.echo(f"  {item_id}: {text}")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problems found (run `museum reindex` to rebuild "
                                   "the index; restore missing originals from a backup)")
    click.echo("Everything agrees.")


@main.group()
def user() -> None:
    """Manage curator and admin accounts."""


def _read_password(confirm: bool) -> str:
    """Read a password from the terminal (hidden, asked twice) or, when piped, from the first line of stdin."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    # Never an argument: arguments show in `ps` and shell history.
    return sys.stdin.readline().rstrip("\r\n")


@user.command("add")
@data_dir_option
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "curator"]), default="curator", show_default=True)
@click.option("--name", "display_name", default="", help="Name shown to other curators.")
@click.option("--institution", "institutions", multiple=True,
              help="Limit a curator to this institution's items (repeatable); none means all.")
def user_add(data_dir: str | None, username: str, role: str, display_name: str, institutions: tuple[str, ...]) -> None:
    """Create an account; the password is read from a prompt or from stdin, never from the command line."""
    password = _read_password(confirm=True)
    cat = _open(data_dir)
    try:
        account = create_user(cat, username, password, role=role, display_name=display_name,
                              institutions=institutions)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        close_catalogue(cat)
    limits = f", limited to {', '.join(account.institutions)}" if account.institutions else ""
    click.echo(f"Created {account.role} {account.username}{limits}.")


@user.command("password")
@data_dir_option
@click.argument("username")
def user_password(data_dir: str | None, username: str) -> None:
    """Set a new password for an account (read from a prompt or stdin); its sessions end."""
    password = _read_password(confirm=True)
    cat = _open(data_dir)
    try:
        set_password(cat, username, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        close_catalogue(cat)
    click.echo(f"Password changed for {username}.")


@user.command("list")
@data_dir_option
def user_list(data_dir: str | None) -> None:
    """List accounts with their roles and institutions."""
    cat = _open(data_dir)
    try:
        for account in all_accounts(cat):
            state = "" if account.active else " (inactive)"
            limits = ", ".join(account.institutions) or "all institutions"
            click.echo(f"{account.username}\t{account.role}{state}\t{limits}")
    finally:
        close_catalogue(cat)
