"""Delivery of one webhook attempt over HTTP(S), safe against server-side request forgery.

Endpoint URLs come from site owners, so a URL must not reach our own network: every address a
host resolves to must be public unicast (or inside the configured allowlist, for tests and
on-premises CMSs). The host is resolved once and the connection goes to the address that was
checked, never to the name again, so DNS rebinding between check and use cannot happen; the
Host header, TLS SNI and certificate check still use the name from the URL. Only the standard
library is used, so no proxy settings from the environment apply.
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_BODY = 64 * 1024
USER_AGENT = "Vetted-Webhooks/1"
_MAX_ERROR = 500


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# IANA special-purpose blocks, listed outright because ``is_global`` differs between Python
# releases and calls multicast and some of these global.
_IPV4_REFUSED = _networks(
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)  # fmt: skip
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# 2001::/23 holds Teredo (2001::/32), whose tunnelled IPv4 client is obfuscated: refuse it whole.
_IPV6_REFUSED = _networks("2001::/23", "2001:db8::/32", "3fff::/20")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_SECONDS = re.compile(r"[0-9]{1,12}")
# The longest a registration waits for DNS; a delivery waits no longer than its own deadline.
RESOLVE_TIMEOUT = 5.0


class UnsafeEndpoint(ValueError):
    """An endpoint URL that Vetted refuses to call, with the reason in the message."""


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt gave: the status if a response came, and why not otherwise."""

    status: int | None
    duration_ms: int
    response_excerpt: str
    retry_after: float | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        """Whether the receiver answered 2xx, the one outcome Standard Webhooks calls success."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class _Endpoint:
    scheme: str
    host: str
    port: int
    request_target: str


class _Deadline:
    """The instant by which the whole attempt, connect to last byte, must be over."""

    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; TimeoutError once none are."""
        left = self._at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the delivery deadline passed")
        return left


class _DeadlineSocket(socket.socket):
    """A TCP socket whose every receive and send ends by the attempt's deadline."""

    # A per-call timeout alone would let a receiver dripping a byte at a time hold a worker.
    deadline: _Deadline | None = None

    def recv_into(self, buffer: WriteableBuffer, nbytes: int = 0, flags: int = 0) -> int:
        if self.deadline is not None:
            self.settimeout(self.deadline.remaining())
        return super().recv_into(buffer, nbytes, flags)

    def sendall(self, data: ReadableBuffer, flags: int = 0) -> None:
        if self.deadline is not None:
            self.settimeout(self.deadline.remaining())
        super().sendall(data, flags)


class _DeadlineSSLSocket(ssl.SSLSocket):
    """The TLS counterpart of _DeadlineSocket."""

    deadline: _Deadline | None = None

    def recv_into(self, buffer: WriteableBuffer, nbytes: int | None = None, flags: int = 0) -> int:
        if self.deadline is not None:
            self.settimeout(self.deadline.remaining())
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: ReadableBuffer, flags: int = 0) -> int:
        if self.deadline is not None:
            self.settimeout(self.deadline.remaining())
        return super().send(data, flags)


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to addresses checked beforehand, speaking to them by host name."""

    def __init__(
        self,
        endpoint: _Endpoint,
        addresses: Sequence[IPAddress],
        deadline: _Deadline,
        connect_timeout: float,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(endpoint.host, endpoint.port, timeout=connect_timeout)
        # http.client leaves the port out of Host when it is the scheme's default.
        self.default_port = 443 if tls is not None else 80
        self._addresses = addresses
        self._deadline = deadline
        self._connect_timeout = connect_timeout
        self._tls = tls

    def connect(self) -> None:
        """Connect to a checked address, never resolving the host name again."""
        sock = _open_socket(self._addresses, self.port, self._deadline, self._connect_timeout)
        if self._tls is None:
            sock.deadline = self._deadline
            self.sock = sock
        else:
            self.sock = _start_tls(sock, self._tls, self.host, self._deadline)


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is global unicast, judging IPv6 forms by the IPv4 address they embed."""
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global and not any(address in net for net in _IPV4_REFUSED)
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_public_address(embedded)
    return (
        address in _IPV6_GLOBAL_UNICAST
        and address.is_global
        and not any(address in net for net in _IPV6_REFUSED)
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or NAT64 address leads to."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_permitted(address: IPAddress, allowed: Iterable[IPNetwork]) -> bool:
    """Whether Vetted may connect to ``address``: public, or inside the allowlist."""
    effective: IPAddress = address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        effective = address.ipv4_mapped
    # No allowlist makes these a single destination: 0.0.0.0 even reaches the local host.
    if effective.is_unspecified or effective.is_multicast or effective == _BROADCAST:
        return False
    return is_public_address(address) or any(effective in network for network in allowed)


def resolve_public_addresses(
    host: str, port: int, allowlist: Sequence[str], timeout: float = RESOLVE_TIMEOUT
) -> list[IPAddress]:
    """Every address ``host`` resolves to, or UnsafeEndpoint if any one is not permitted."""
    # A malformed allowlist entry is a configuration error, so its ValueError is left to surface.
    allowed = [ipaddress.ip_network(cidr) for cidr in allowlist]
    try:
        infos = _getaddrinfo_within(host, port, timeout)
    except (OSError, UnicodeError) as exc:
        raise UnsafeEndpoint(f"the host {host!r} does not resolve ({exc})") from exc
    families = (socket.AF_INET, socket.AF_INET6)
    found = [ipaddress.ip_address(info[4][0]) for info in infos if info[0] in families]
    addresses = list(dict.fromkeys(found))
    if not addresses:
        raise UnsafeEndpoint(f"the host {host!r} resolves to no IP address")
    refused = [str(address) for address in addresses if not _is_permitted(address, allowed)]
    if refused:
        raise UnsafeEndpoint(
            f"the host {host!r} resolves to {', '.join(refused)}: not a public address "
            "(loopback, private, shared, link-local, multicast or reserved)"
        )
    return addresses


_AddrInfo = Sequence[tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]]


def _getaddrinfo_within(host: str, port: int, timeout: float) -> _AddrInfo:
    """getaddrinfo, given up on after ``timeout`` seconds (TimeoutError)."""
    # getaddrinfo takes no timeout and cannot be interrupted, so it runs in a daemon thread the
    # caller stops waiting for: a slow resolver then costs the attempt's deadline, not a worker.
    # The OS resolver also turns numeric forms such as 0x7f000001 or 127.1 into addresses.
    result: Future[_AddrInfo] = Future()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except BaseException as exc:  # handed to the waiting caller, who re-raises it
            result.set_exception(exc)
        else:
            result.set_result(infos)

    threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
    try:
        return result.result(timeout=max(timeout, 0.0))
    except TimeoutError:  # concurrent.futures' TimeoutError is the builtin one since 3.11
        raise TimeoutError(f"no answer within {timeout:.1f} s") from None


def _parse_endpoint(url: str, allow_http: bool) -> _Endpoint:
    """The parts of an endpoint URL, or UnsafeEndpoint when its form is not acceptable."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise UnsafeEndpoint("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeEndpoint(f"the URL is malformed or its port is invalid ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise UnsafeEndpoint(
            "the URL must use https" if not allow_http else "the URL must be http(s)"
        )
    if "@" in parts.netloc:
        raise UnsafeEndpoint("the URL must not contain a user name or password")
    if not parts.hostname:
        raise UnsafeEndpoint("the URL has no host")
    if port == 0:
        raise UnsafeEndpoint("the URL's port must be between 1 and 65535")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Endpoint(scheme, parts.hostname, port or (443 if scheme == "https" else 80), target)


def validate_endpoint_url(url: str, allow_http: bool, allowlist: Sequence[str]) -> None:
    """Raise UnsafeEndpoint unless ``url`` is one Vetted may deliver webhooks to."""
    endpoint = _parse_endpoint(url, allow_http)
    resolve_public_addresses(endpoint.host, endpoint.port, allowlist)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP-date), if it is valid."""
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def deliver(
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    allowlist: Sequence[str],
    allow_http: bool,
    connect_timeout: float = 5.0,
    total_timeout: float = 15.0,
    max_body: int = MAX_BODY,
    tls_context: ssl.SSLContext | None = None,
) -> DeliveryResult:
    """POST ``body`` to ``url`` once, never following redirects, and report what happened."""
    started = time.monotonic()
    deadline = _Deadline(total_timeout)
    try:
        endpoint = _parse_endpoint(url, allow_http)
        addresses = resolve_public_addresses(
            endpoint.host, endpoint.port, allowlist, timeout=deadline.remaining()
        )
    except (UnsafeEndpoint, TimeoutError) as exc:
        return DeliveryResult(None, _elapsed_ms(started), "", None, f"refused: {exc}")
    tls = None
    if endpoint.scheme == "https":
        tls = tls_context or _default_tls_context()
    connection = _PinnedConnection(endpoint, addresses, deadline, connect_timeout, tls)
    status, retry_after, excerpt, error = None, None, b"", None
    try:
        connection.request(
            "POST", endpoint.request_target, body=body, headers=_request_headers(headers)
        )
        response = connection.getresponse()
        status = response.status
        retry_after = parse_retry_after(response.getheader("Retry-After"))
        excerpt, error = _read_excerpt(response, max_body)
    except (OSError, http.client.HTTPException) as exc:
        error = _describe(exc)
    finally:
        connection.close()
    text = excerpt.decode("utf-8", "replace")
    return DeliveryResult(status, _elapsed_ms(started), text, retry_after, error)


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The caller's headers minus those that frame the request, which http.client sets."""
    kept = {name: value for name, value in headers.items() if name.lower() not in _FRAMING_HEADERS}
    if not any(name.lower() == "user-agent" for name in kept):
        kept["User-Agent"] = USER_AGENT
    kept["Connection"] = "close"
    return kept


def _read_excerpt(response: http.client.HTTPResponse, limit: int) -> tuple[bytes, str | None]:
    """At most ``limit`` bytes of the body, and the error that cut it short, if any."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size < limit:
            chunk = response.read1(limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except http.client.IncompleteRead as exc:
        chunks.append(exc.partial)
        return b"".join(chunks)[:limit], _describe(exc)
    except (OSError, http.client.HTTPException) as exc:
        return b"".join(chunks), _describe(exc)
    return b"".join(chunks), None


def _open_socket(
    addresses: Sequence[IPAddress], port: int, deadline: _Deadline, connect_timeout: float
) -> _DeadlineSocket:
    """A TCP connection to the first of ``addresses`` that accepts one."""
    last_error: OSError = ConnectionError("no address to connect to")
    for address in addresses:
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = _DeadlineSocket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(min(connect_timeout, deadline.remaining()))
            sock.connect((str(address), port))
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise last_error


def _start_tls(
    sock: socket.socket, context: ssl.SSLContext, host: str, deadline: _Deadline
) -> ssl.SSLSocket:
    """TLS over ``sock`` with SNI and the certificate check made for ``host``, not the address."""
    # Harmless on a caller's shared context: without a deadline the class acts as SSLSocket.
    context.sslsocket_class = _DeadlineSSLSocket
    try:
        tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    except BaseException:
        sock.close()
        raise
    try:
        if isinstance(tls, _DeadlineSSLSocket):
            tls.deadline = deadline
        tls.settimeout(deadline.remaining())
        tls.do_handshake()
    except BaseException:
        tls.close()
        raise
    return tls


@functools.cache
def _default_tls_context() -> ssl.SSLContext:
    """The system's trust store with hostname checks; shared, as SSLContext is thread-safe."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _describe(exc: BaseException) -> str:
    """A short, single-line account of a failed attempt for the delivery log."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[:_MAX_ERROR]


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
