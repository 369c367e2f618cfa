"""Helpers for curation tests: accounts, logging in through the real form, CSRF tokens."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from museum.curation.accounts import Account, create_user
from museum.web import CATALOGUE_KEY

PASSWORD = "correct horse battery"


def add_user(app: Flask, username: str, role: str = "curator", institutions: tuple[str, ...] = ()) -> Account:
    """Create an account with the test password."""
    return create_user(app.extensions[CATALOGUE_KEY], username, PASSWORD, role=role, institutions=institutions)


def csrf_token(client: FlaskClient, path: str) -> str:
    """Return the CSRF token of the form on the page at path."""
    with client.get(path) as response:
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(client: FlaskClient, username: str, password: str = PASSWORD) -> int:
    """Log in through the login form; return the response status (302 on success)."""
    token = csrf_token(client, "/curate/login")
    with client.post("/curate/login", data={"username": username, "password": password,
                                            "csrf_token": token}) as response:
        return response.status_code
