"""Standard Webhooks signatures, checked against the specification and its reference library."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from service.webhooks import signing

# The reference vector of the Standard Webhooks Python library, test_sign_function in
# standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py; the same values
# appear in Svix's documentation.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

BODY = b'{"type":"comment.approved","data":{"id":42}}'


def test_sign_reproduces_the_specification_vector() -> None:
    assert signing.sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_secret_without_prefix_signs_the_same() -> None:
    bare = SPEC_SECRET.removeprefix("whsec_")
    assert signing.sign(bare, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_verify_accepts_the_specification_vector() -> None:
    received = {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    signing.verify([SPEC_SECRET], received, SPEC_BODY, now=SPEC_TIMESTAMP + 10)


@pytest.mark.parametrize("nbytes", [24, 32])
def test_generated_secret_is_prefixed_base64_of_random_bytes(nbytes: int) -> None:
    secret = signing.generate_secret(nbytes)
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == nbytes
    assert secret != signing.generate_secret(nbytes)


@pytest.mark.parametrize("nbytes", [0, 16, 23, 65])
def test_secret_of_unsafe_length_is_refused(nbytes: int) -> None:
    with pytest.raises(ValueError):
        signing.generate_secret(nbytes)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_c2hvcnQ=", "whsec_not base64!"])
def test_malformed_or_short_secret_cannot_sign(secret: str) -> None:
    with pytest.raises(ValueError):
        signing.sign(secret, "msg_1", 1, BODY)


@pytest.mark.parametrize("msg_id", ["", "msg.1", "msg 1", "msg_1\r\nx-evil: 1"])
def test_message_id_that_could_alter_signed_bytes_or_headers_is_refused(msg_id: str) -> None:
    with pytest.raises(ValueError):
        signing.sign(SPEC_SECRET, msg_id, 1, BODY)


def test_headers_verify_with_the_reference_library() -> None:
    secret = signing.generate_secret()
    sent = signing.headers("msg_2", int(time.time()), BODY, [secret])

    assert set(sent) == {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"}
    assert sent["content-type"] == "application/json"
    assert Webhook(secret).verify(BODY, sent) == {"type": "comment.approved", "data": {"id": 42}}


def test_during_rotation_old_and_new_secrets_both_verify() -> None:
    old, new = signing.generate_secret(), signing.generate_secret()
    sent = signing.headers("msg_3", int(time.time()), BODY, [new, old])

    assert len(sent["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(BODY, sent)
        signing.verify([secret], sent, BODY)


def test_a_retired_secret_no_longer_verifies() -> None:
    old, new = signing.generate_secret(), signing.generate_secret()
    sent = signing.headers("msg_4", int(time.time()), BODY, [new])

    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, sent)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify([old], sent, BODY)


def test_tampered_body_fails_verification() -> None:
    secret = signing.generate_secret()
    sent = signing.headers("msg_5", int(time.time()), BODY, [secret])
    tampered = BODY.replace(b"42", b"43")

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, sent)
    with pytest.raises(signing.SignatureInvalid, match="no signature"):
        signing.verify([secret], sent, tampered)


def test_changed_message_id_fails_verification() -> None:
    secret = signing.generate_secret()
    sent = signing.headers("msg_6", int(time.time()), BODY, [secret])

    with pytest.raises(signing.SignatureInvalid):
        signing.verify([secret], {**sent, "webhook-id": "msg_7"}, BODY)


@pytest.mark.parametrize("skew", [-301, 301])
def test_timestamp_outside_five_minutes_fails_verification(skew: int) -> None:
    secret = signing.generate_secret()
    now = int(time.time())
    sent = signing.headers("msg_8", now + skew, BODY, [secret])

    with pytest.raises(signing.SignatureInvalid, match="tolerance"):
        signing.verify([secret], sent, BODY, now=now)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, sent)


def test_timestamp_within_five_minutes_verifies() -> None:
    secret = signing.generate_secret()
    now = int(time.time())
    sent = signing.headers("msg_9", now - 299, BODY, [secret])

    signing.verify([secret], sent, BODY, now=now)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails_verification(missing: str) -> None:
    secret = signing.generate_secret()
    sent = signing.headers("msg_10", int(time.time()), BODY, [secret])
    del sent[missing]

    with pytest.raises(signing.SignatureInvalid, match="missing"):
        signing.verify([secret], sent, BODY)


def test_verify_reads_header_names_case_insensitively() -> None:
    secret = signing.generate_secret()
    sent = signing.headers("msg_11", int(time.time()), BODY, [secret])

    signing.verify([secret], {name.title(): value for name, value in sent.items()}, BODY)


def test_non_ascii_signature_is_refused_not_crashed() -> None:
    secret = signing.generate_secret()
    sent = signing.headers("msg_12", int(time.time()), BODY, [secret])

    with pytest.raises(signing.SignatureInvalid):
        signing.verify([secret], {**sent, "webhook-signature": "v1,é"}, BODY)


def test_signing_needs_an_active_secret() -> None:
    with pytest.raises(ValueError):
        signing.headers("msg_13", 1, BODY, [])


@pytest.mark.parametrize("stamp", ["soon", "-5", "1.5", "²"])
def test_malformed_timestamp_fails_verification(stamp: str) -> None:
    secret = signing.generate_secret()
    sent = signing.headers("msg_14", int(time.time()), BODY, [secret])

    with pytest.raises(signing.SignatureInvalid, match="not an integer"):
        signing.verify([secret], {**sent, "webhook-timestamp": stamp}, BODY)
