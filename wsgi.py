"""WSGI entry point for gunicorn: `gunicorn wsgi:app` serves the same app as `museum serve`."""

from museum import create_app

app = create_app()
