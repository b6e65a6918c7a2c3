"""SSRF-safe delivery, against a real receiver on 127.0.0.1 (no other network is used)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from standardwebhooks import Webhook

from service.webhooks import signing
from service.webhooks.transport import (
    UnsafeEndpoint,
    deliver,
    is_public_address,
    parse_retry_after,
    resolve_public_addresses,
    validate_endpoint_url,
)

if TYPE_CHECKING:
    from tests.webhooks.conftest import Certificate, Receiver

LOOPBACK = ["127.0.0.1/32"]
BODY = b'{"type":"comment.approved","data":{"id":7}}'
HEADERS = {"content-type": "application/json", "webhook-id": "msg_1"}


def post(url: str, **options: Any) -> Any:
    """deliver() with the loopback allowlist, plain HTTP allowed and short timeouts."""
    settings: dict[str, Any] = {
        "allowlist": LOOPBACK,
        "allow_http": True,
        "connect_timeout": 2.0,
        "total_timeout": 5.0,
    }
    return deliver(url, HEADERS, BODY, **(settings | options))


def test_delivery_to_allowlisted_loopback_succeeds(receiver: Receiver) -> None:
    receiver.respond(200, b"thanks")

    result = post(receiver.url("/hook?site=1"))

    assert (result.status, result.error, result.response_excerpt) == (200, None, "thanks")
    assert result.succeeded
    assert result.duration_ms >= 0
    [request] = receiver.requests
    assert (request.method, request.path, request.body) == ("POST", "/hook?site=1", BODY)
    assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["content-length"] == str(len(BODY))


def test_signed_delivery_verifies_at_the_receiver(receiver: Receiver) -> None:
    secret = signing.generate_secret()
    headers = signing.headers("msg_42", int(time.time()), BODY, [secret])

    result = deliver(receiver.url(), headers, BODY, allowlist=LOOPBACK, allow_http=True)

    assert result.succeeded
    [request] = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["data"] == {"id": 7}


def test_caller_cannot_override_host_or_framing_headers(receiver: Receiver) -> None:
    headers = {"Host": "internal.example", "Content-Length": "1", "Transfer-Encoding": "chunked"}

    result = deliver(receiver.url(), headers, BODY, allowlist=LOOPBACK, allow_http=True)

    assert result.succeeded
    [request] = receiver.requests
    assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert "transfer-encoding" not in request.headers
    assert request.body == BODY


def test_loopback_is_refused_without_allowlist(receiver: Receiver) -> None:
    result = post(receiver.url(), allowlist=[])

    assert result.status is None
    assert result.error is not None and result.error.startswith("refused:")
    assert not result.succeeded
    assert receiver.requests == []


def test_hostname_resolving_to_loopback_is_refused(receiver: Receiver) -> None:
    result = post(receiver.url(host="localhost"), allowlist=[])

    assert result.error is not None and "127.0.0.1" in result.error
    assert receiver.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.1.1",  # shared address space (carrier-grade NAT)
        "127.0.0.1",
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        "0.0.0.0",
        "0",
        "224.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "192.0.2.1",
        "localhost",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[::127.0.0.1]",  # IPv4-compatible
        "[fd00::1]",
        "[fe80::1]",
        "[ff02::1]",
        "[2001:db8::1]",
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
    ],
)
def test_non_public_address_is_refused(host: str) -> None:
    with pytest.raises(UnsafeEndpoint, match="not a public address"):
        validate_endpoint_url(f"https://{host}/hook", allow_http=False, allowlist=[])


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "2002:5db8:d70e::1", "64:ff9b::101:101"],
)
def test_public_addresses_are_accepted(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))
    assert resolve_public_addresses(address, 443, []) == [ipaddress.ip_address(address)]


def test_allowlisted_private_network_is_accepted() -> None:
    validate_endpoint_url("https://10.1.2.3/hook", allow_http=False, allowlist=["10.0.0.0/8"])


def test_ipv4_mapped_form_of_an_allowlisted_address_is_accepted() -> None:
    validate_endpoint_url("https://[::ffff:127.0.0.1]/", allow_http=False, allowlist=LOOPBACK)


@pytest.mark.parametrize("host", ["0.0.0.0", "224.0.0.1", "255.255.255.255"])
def test_allowlist_never_admits_unspecified_multicast_or_broadcast(host: str) -> None:
    with pytest.raises(UnsafeEndpoint):
        validate_endpoint_url(f"https://{host}/", allow_http=False, allowlist=["0.0.0.0/0"])


def test_host_is_refused_when_any_of_its_addresses_is_private(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [("93.184.215.14", 443), ("10.0.0.1", 443)]
    fake = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", answer) for answer in answers]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: fake)

    with pytest.raises(UnsafeEndpoint, match=r"10\.0\.0\.1"):
        resolve_public_addresses("hooks.example.test", 443, [])


def test_delivery_connects_to_the_checked_address_without_resolving_again(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "hooks.example.test":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        # A rebinding resolver would answer differently the second time; there must be none.
        address = "127.0.0.1" if len(lookups) == 1 else "10.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, receiver.port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    result = post(receiver.url(host="hooks.example.test"))

    assert result.succeeded
    assert lookups == ["hooks.example.test"]
    assert receiver.requests[0].headers["host"] == f"hooks.example.test:{receiver.port}"


def test_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.respond(302, b"", {"Location": receiver.url("/internal")})

    result = post(receiver.url())

    assert result.status == 302
    assert not result.succeeded
    assert [request.path for request in receiver.requests] == ["/hook"]


def test_redirect_to_a_private_address_is_only_a_status(receiver: Receiver) -> None:
    receiver.respond(307, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})

    result = post(receiver.url())

    assert (result.status, result.error) == (307, None)
    assert len(receiver.requests) == 1


def test_response_body_is_truncated_at_64_kib(receiver: Receiver) -> None:
    receiver.respond(200, b"x" * (300 * 1024))

    result = post(receiver.url())

    assert result.status == 200
    assert len(result.response_excerpt) == 64 * 1024


def test_response_body_limit_is_configurable(receiver: Receiver) -> None:
    receiver.respond(500, b"internal error: " + b"y" * 1000)

    result = post(receiver.url(), max_body=14)

    assert (result.status, result.response_excerpt) == (500, "internal error")


def test_slow_receiver_hits_the_timeout(receiver: Receiver) -> None:
    receiver.respond(200, delay=10)

    started = time.monotonic()
    result = post(receiver.url(), connect_timeout=0.5, total_timeout=0.5)

    assert time.monotonic() - started < 3
    assert result.status is None
    assert result.error is not None and "Timeout" in result.error
    assert not result.succeeded


def test_dripping_receiver_cannot_outlast_the_total_deadline(receiver: Receiver) -> None:
    # Each byte arrives well within any per-read timeout; only a total deadline ends this.
    receiver.respond(200, b"z" * 1000, drip=0.05)

    started = time.monotonic()
    result = post(receiver.url(), connect_timeout=0.5, total_timeout=0.6)

    assert time.monotonic() - started < 3
    assert result.status == 200
    assert result.error is not None and "Timeout" in result.error
    assert 0 < len(result.response_excerpt) < 1000


def test_slow_dns_lookup_counts_against_the_total_deadline(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def hanging_resolver(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)  # a resolver that does not answer; released at the end of the test
        return []

    monkeypatch.setattr(socket, "getaddrinfo", hanging_resolver)

    started = time.monotonic()
    result = post(receiver.url(host="slow-dns.example.test"), total_timeout=0.5)
    elapsed = time.monotonic() - started
    release.set()

    assert elapsed < 2
    assert result.status is None
    assert result.error is not None and "does not resolve" in result.error
    assert receiver.requests == []


def test_registration_gives_up_on_a_slow_dns_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: release.wait(10))

    started = time.monotonic()
    with pytest.raises(UnsafeEndpoint, match="does not resolve"):
        resolve_public_addresses("slow-dns.example.test", 443, [], timeout=0.3)
    release.set()

    assert time.monotonic() - started < 2


def test_connection_refused_is_reported(closed_port: int) -> None:
    result = post(f"http://127.0.0.1:{closed_port}/hook")

    assert result.status is None
    assert result.error is not None and "ConnectionRefused" in result.error


def test_retry_after_seconds_is_read(receiver: Receiver) -> None:
    receiver.respond(503, b"busy", {"Retry-After": "120"})

    result = post(receiver.url())

    assert (result.status, result.retry_after) == (503, 120.0)


def test_retry_after_http_date_is_read() -> None:
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 01 Jun 2025 12:01:30 GMT", now) == 90.0
    assert parse_retry_after("Sun, 01 Jun 2025 11:00:00 GMT", now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "9" * 400, "²"])
def test_invalid_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_https_is_required_unless_http_is_allowed(receiver: Receiver) -> None:
    result = post(receiver.url(), allow_http=False)

    assert result.error is not None and "https" in result.error
    assert receiver.requests == []
    with pytest.raises(UnsafeEndpoint, match="https"):
        validate_endpoint_url(receiver.url(), allow_http=False, allowlist=LOOPBACK)
    validate_endpoint_url(receiver.url(), allow_http=True, allowlist=LOOPBACK)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://user:secret@hooks.example.test/", "user name"),
        ("https://@hooks.example.test/", "user name"),
        ("https://hooks.example.test:99999/", "port"),
        ("https://hooks.example.test:0/", "port"),
        ("https://hooks.example.test:http/", "port"),
        ("ftp://hooks.example.test/", "https"),
        ("file:///etc/passwd", "https"),
        ("https:///hook", "no host"),
        ("https://hooks.example.test/a b", "spaces"),
        ("https://hooks.example.test/\r\nX-Evil: 1", "control"),
        ("https://[::1/", "malformed"),
    ],
)
def test_malformed_url_is_refused_before_any_lookup(url: str, reason: str) -> None:
    with pytest.raises(UnsafeEndpoint, match=reason):
        validate_endpoint_url(url, allow_http=False, allowlist=[])


def test_tls_uses_the_url_host_for_sni_and_certificate(
    tls_receiver: Receiver, localhost_certificate: Certificate
) -> None:
    url = tls_receiver.url(host="localhost", scheme="https")

    result = post(url, tls_context=localhost_certificate.client_context())

    assert (result.status, result.error) == (200, None)
    assert tls_receiver.server_names == ["localhost"]
    assert tls_receiver.requests[0].headers["host"] == f"localhost:{tls_receiver.port}"


def test_tls_certificate_must_match_the_url_host(
    tls_receiver: Receiver, localhost_certificate: Certificate
) -> None:
    # The certificate names localhost only, so reaching the same socket as 127.0.0.1 must fail.
    url = tls_receiver.url(host="127.0.0.1", scheme="https")

    result = post(url, tls_context=localhost_certificate.client_context())

    assert result.status is None
    assert result.error is not None and "mismatch" in result.error
    assert tls_receiver.requests == []


def test_untrusted_certificate_is_refused(tls_receiver: Receiver) -> None:
    result = post(tls_receiver.url(host="localhost", scheme="https"))

    assert result.status is None
    assert result.error is not None and "certificate verify failed" in result.error
    assert tls_receiver.requests == []
