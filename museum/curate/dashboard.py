"""The curator's start page after logging in."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from museum.curate import bp
from museum.curate.auth import curator_required


@bp.get("/")
@curator_required
def dashboard() -> ResponseReturnValue:
    """Show the curator's start page."""
    return render_template("curate/dashboard.html")
