"""Request logs that name no email and no client address (README, "Privacy").

The review API takes an author's email or an address as a search in the query string
(``?author=``, ``?ip=``), and a reader's address is personal data in itself. So the servers'
request logs show the time, method, path without its query, status, size and duration, and
never the query string or who asked: gunicorn through ACCESS_LOG_FORMAT (service.gunicorn_conf),
``vetted dev`` through PrivateRequestHandler.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler

# gunicorn's default names the client (%(h)s) and the request line with its query (%(r)s);
# %(U)s is the path alone.
ACCESS_LOG_FORMAT = '[%(t)s] "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'

_werkzeug_log = logging.getLogger("werkzeug")


class PrivateRequestHandler(WSGIRequestHandler):
    """The development server's request handler, logging as ACCESS_LOG_FORMAT does."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request: the path without its query string."""
        path = urlsplit(self.path).path
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        """Werkzeug's line without the client address it starts with."""
        if not _werkzeug_log.handlers:  # as werkzeug does: its lines show without any set-up
            _werkzeug_log.setLevel(logging.INFO)
            _werkzeug_log.addHandler(logging.StreamHandler())
        getattr(_werkzeug_log, type)(f"[{self.log_date_time_string()}] {message}", *args)
