"""The baseline of the page benchmarks: a minimal Flask hello-world app served like the museum."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Return a fixed greeting."""
    return "Hello, World!"
