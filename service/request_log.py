"""Request logs that name no email and no client address (README, "Privacy").

The review API takes an author's email or an address as a search in the query string
(``?author=``, ``?ip=``), and a reader's address is personal data in itself. So the servers'
request logs show the time, method, path without its query, status, size and duration, and
never the query string or who asked: gunicorn through ACCESS_LOG_FORMAT (service.gunicorn_conf),
``vetted dev`` through PrivateRequestHandler. A path's control characters are escaped, so
that a newline in it cannot start a line of its own that reads as another request.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from gunicorn.glogging import Logger
from werkzeug.serving import WSGIRequestHandler

# gunicorn's default names the client (%(h)s) and the request line with its query (%(r)s);
# %(U)s is the path alone. %(t)s comes in its own brackets.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# gunicorn's warning when it refuses a request it cannot parse: it names the client, and some
# errors quote the request line, query string included.
_REFUSED = re.compile(r"Invalid request from ip=\S*: (?P<error>[^:]*)")

_werkzeug_log = logging.getLogger("werkzeug")


class PrivateRequestHandler(WSGIRequestHandler):
    """The development server's request handler, logging as ACCESS_LOG_FORMAT does."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request: the path without its query string."""
        path = printable(urlsplit(self.path).path)
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        """Werkzeug's line without the client address it starts with."""
        if not _werkzeug_log.handlers:  # as werkzeug does: its lines show without any set-up
            _werkzeug_log.setLevel(logging.INFO)
            _werkzeug_log.addHandler(logging.StreamHandler())
        getattr(_werkzeug_log, type)(f"[{self.log_date_time_string()}] {message}", *args)


def printable(text: str) -> str:
    """text with its control characters written as \\xNN escapes."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found[0]):02x}", text)


class PrivateLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger (``logger_class`` in service.gunicorn_conf): the path escaped by
    printable() in the access log, and no client address or request text in the warning for a
    request gunicorn refuses itself."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        """gunicorn's atoms with the path made printable."""
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = printable(atoms["U"] or "")
        return atoms

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """The warning, with a refused request's address and quoted text left out."""
        refused = _REFUSED.match(str(msg))
        if refused:
            msg = f"Invalid request refused: {refused['error']}"
        super().warning(msg, *args, **kwargs)
