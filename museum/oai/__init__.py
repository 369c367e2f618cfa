"""The OAI-PMH blueprint at /oai: metadata harvesting for aggregators (GET and POST, as the protocol asks)."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

bp = Blueprint("oai", __name__, url_prefix="/oai")


@bp.record_once
def _exempt_from_csrf(state: BlueprintSetupState) -> None:
    """Let harvesters POST protocol requests: they carry no session or token, and nothing here writes."""
    csrf = state.app.extensions.get("csrf")
    if csrf is None:
        # Registered before the CSRF extension exists, its POSTs would be refused with 400.
        raise RuntimeError("register the oai blueprint after init_auth (it exempts itself from CSRF checks)")
    csrf.exempt(bp)


from museum.oai import views  # noqa: E402,F401 - routes attach themselves to bp
