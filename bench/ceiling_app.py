"""The ceiling of the stack: Flask under the same gunicorn, returning fixed JSON bodies.

Each body is the size of Vetted's own response to the same workload (run.py captures them after
the preload and writes them to the directory named by CEILING_BODIES, one `<name>.json` file per
workload). Nothing is computed per request, so no comment service on this stack can be faster.

Run: CEILING_BODIES=DIR gunicorn -w 2 'ceiling_app:create_app()'
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, abort, request


def load_bodies(directory: Path) -> dict[str, bytes]:
    """Every `<name>.json` file of `directory`, read once at start."""
    return {path.stem: path.read_bytes() for path in sorted(directory.glob("*.json"))}


def create_app() -> Flask:
    """An app serving GET /c/<name> (200) and POST /c/<name> (202) with the body `name`."""
    app = Flask(__name__)
    bodies = load_bodies(Path(os.environ["CEILING_BODIES"]))

    @app.get("/c/<name>")
    def read(name: str) -> Response:
        """The fixed body of a read."""
        if name not in bodies:
            abort(404)
        return Response(bodies[name], status=200, mimetype="application/json")

    @app.post("/c/<name>")
    def submit(name: str) -> Response:
        """The fixed body of a submission; the request body is read and dropped."""
        if name not in bodies:
            abort(404)
        request.get_data()
        return Response(bodies[name], status=202, mimetype="application/json")

    return app
