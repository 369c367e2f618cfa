"""Run the app under gunicorn from the `museum serve` command, without a config file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _MuseumApplication(BaseApplication):  # type: ignore[misc]
    """A gunicorn application that builds our Flask app in each worker."""

    def __init__(self, overrides: Mapping[str, Any], options: Mapping[str, Any]) -> None:
        """Keep the app overrides and gunicorn options for load()."""
        self.overrides = dict(overrides)
        self.options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        """Pass our options to gunicorn's settings."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in the worker (not the master, so no connection crosses a fork)."""
        from museum import create_app

        return create_app(self.overrides)


def run_gunicorn(overrides: Mapping[str, Any], bind: str, workers: int) -> None:
    """Serve the app with gunicorn until interrupted."""
    _MuseumApplication(overrides, {
        "bind": bind, "workers": workers, "accesslog": "-", "timeout": 60,
        "worker_class": "sync",
    }).run()
