"""Standard Webhooks signatures: secrets, the signed headers, and verification.

The scheme is the one of https://www.standardwebhooks.com/ (and Svix): HMAC-SHA256 keyed with
the base64-decoded secret over ``{msg_id}.{timestamp}.{body}``, sent as ``v1,<base64>``.
Any receiver library of the standard can therefore verify what Vetted sends.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as random_source
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
# The specification asks for at least 24 random bytes and allows up to 512 bits.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
DEFAULT_SECRET_BYTES = 32
TOLERANCE_SECONDS = 5 * 60

# The id is part of the signed ``id.timestamp.body`` string and travels in a header: a ``.``
# would make two different messages sign the same bytes, and spaces or CR/LF break the header.
_MSG_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


class SignatureInvalid(ValueError):
    """A webhook whose headers or signature do not check out."""


def generate_secret(nbytes: int = DEFAULT_SECRET_BYTES) -> str:
    """A new random signing secret, ``whsec_`` followed by base64 of ``nbytes`` bytes."""
    if not MIN_SECRET_BYTES <= nbytes <= MAX_SECRET_BYTES:
        raise ValueError(f"a secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")
    return SECRET_PREFIX + base64.b64encode(random_source.token_bytes(nbytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key in ``secret``, with or without its ``whsec_`` prefix."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is base64 after 'whsec_'") from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(f"a webhook secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message under one secret."""
    if not _MSG_ID.fullmatch(msg_id):
        raise ValueError("a message id is 1 to 255 letters, digits, '_' or '-'")
    if timestamp < 0:
        raise ValueError("a timestamp is seconds since the epoch")
    signed = f"{msg_id}.{timestamp}.".encode("ascii") + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per active secret, space-separated."""
    # During a rotation the old and the new secret both sign, so receivers holding either verify.
    active = list(dict.fromkeys(secrets))
    if not active:
        raise ValueError("at least one secret must be active")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in active)


def headers(
    msg_id: str,
    timestamp: int,
    body: bytes,
    secrets: Sequence[str],
    content_type: str = "application/json",
) -> dict[str, str]:
    """The Standard Webhooks headers for one delivery attempt of one message."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": content_type,
    }


def verify(
    secrets: Sequence[str],
    received: Mapping[str, str],
    body: bytes,
    *,
    now: int | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Check a received webhook as a receiver would; raise SignatureInvalid if it fails."""
    lowered = {name.lower(): value for name, value in received.items()}
    msg_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    offered = lowered.get("webhook-signature", "")
    if not (msg_id and stamp and offered):
        raise SignatureInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    if not (stamp.isascii() and stamp.isdigit()):
        raise SignatureInvalid("webhook-timestamp is not an integer")
    timestamp = int(stamp)
    current = int(time.time()) if now is None else now
    # The timestamp is signed, so a tight window is what stops an old message being replayed.
    if abs(current - timestamp) > tolerance:
        raise SignatureInvalid("webhook-timestamp is outside the tolerance")
    try:
        expected = [sign(secret, msg_id, timestamp, body) for secret in secrets]
    except ValueError as exc:
        raise SignatureInvalid(str(exc)) from exc
    for candidate in offered.split():
        # Bytes, because compare_digest refuses non-ASCII str and a header may carry any.
        offered_bytes = candidate.encode("utf-8", "replace")
        if any(hmac.compare_digest(offered_bytes, sig.encode("ascii")) for sig in expected):
            return
    raise SignatureInvalid("no signature matches")
