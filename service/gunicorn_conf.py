"""gunicorn settings of the web processes (docker-compose.yml and the Dockerfile load them with
``--config python:service.gunicorn_conf``): an access log on stdout that holds no query string
and no client address (service.request_log), and problem details for the requests gunicorn
refuses before the app sees them (a request line or headers too long, a malformed request).
"""

from typing import Any

import orjson
from gunicorn import util

from service.errors import problem
from service.request_log import ACCESS_LOG_FORMAT, PrivateLogger

accesslog = "-"
access_log_format = ACCESS_LOG_FORMAT
logger_class = PrivateLogger

_DETAILS = {
    400: "The request could not be read as HTTP.",
    414: "The address is too long.",
    431: "The request's headers are too large.",
}


def problem_error_page(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's error page as problem details, the one shape of every error (README).

    gunicorn offers no setting for it; its workers call util.write_error, replaced below in
    the master before it forks them. mesg, which may quote the request, is left out.
    """
    kind = reason.lower().replace(" ", "-")
    body = orjson.dumps(problem(status_int, kind, reason, _DETAILS.get(status_int, reason)))
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = problem_error_page
