"""The OAI-PMH endpoint: read the protocol arguments, let the catalogue answer, send the XML."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, request, url_for

from museum.catalogue import oai
from museum.oai import bp
from museum.web import current_catalogue

# Flask config key, for tests that want short pages; installations keep oai.PAGE_SIZE.
PAGE_SIZE_KEY = "OAI_PAGE_SIZE"


class SiteLinks:
    """The site's absolute URLs for the current request (scheme, host and prefix as the client sees them)."""

    def item_page(self, item_id: str) -> str:
        """Return the URL of an item's page."""
        return url_for("public.item", item_id=item_id, _external=True)

    def manifest(self, item_id: str) -> str:
        """Return the URL of an item's IIIF Manifest."""
        return url_for("iiif.manifest", item_id=item_id, _external=True)

    def thumbnail(self, sha256: str) -> str:
        """Return the URL of an image's JPEG thumbnail."""
        return url_for("public.media", sha256=sha256, size="thumb", fmt="jpeg", _external=True)

    def full_image(self, sha256: str) -> str:
        """Return the IIIF Image API URL of an image at full size."""
        return url_for("iiif.image", identifier=sha256, region="full", size="max", rotation="0",
                       quality_format="default.jpg", _external=True)

    def image_service(self, sha256: str) -> str:
        """Return the URL of an image's IIIF info.json."""
        return url_for("iiif.info", identifier=sha256, _external=True)


@bp.route("", methods=["GET", "POST"])
def endpoint() -> Response:
    """Answer an OAI-PMH request; POST carries the same arguments form-encoded in its body."""
    values = request.form if request.method == "POST" else request.args
    cat = current_catalogue()
    repository = oai.repository(
        cat.settings, base_url=url_for("oai.endpoint", _external=True),
        host=urlsplit(request.host_url).hostname or "localhost",
        page_size=int(current_app.config.get(PAGE_SIZE_KEY, oai.PAGE_SIZE)))
    body = oai.respond(cat, repository, SiteLinks(), {name: values.getlist(name) for name in values})
    response = Response(body, content_type="text/xml; charset=utf-8")
    # Answers change with every catalogue write and tokens expire: nobody should keep them.
    response.cache_control.no_store = True
    return response
