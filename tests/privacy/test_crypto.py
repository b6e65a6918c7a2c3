"""The vault: encryption at rest, keyed digests and avatar seeds."""

from __future__ import annotations

import hashlib
import re

import pytest

from service.privacy.crypto import Vault, generate_encryption_key, normalise_email

KEY = generate_encryption_key()
EMAIL = "Ann.Reader@Example.com"


def vault(hash_key: str = "hash-key-one", *keys: str) -> Vault:
    return Vault.from_keys(list(keys) or [KEY], hash_key)


def plain_hashes(value: str) -> set[str]:
    """The unkeyed hex digests anyone could compute from a guessed email."""
    forms = {value, value.lower(), value.strip().lower()}
    return {
        getattr(hashlib, name)(form.encode()).hexdigest()
        for name in ("md5", "sha1", "sha256")
        for form in forms
    }


def test_encrypted_email_decrypts_and_holds_no_plaintext() -> None:
    token = vault().encrypt(EMAIL)
    assert vault().decrypt(token) == EMAIL
    assert EMAIL.lower().encode() not in token.lower()


def test_encrypting_twice_gives_different_tokens() -> None:
    assert vault().encrypt(EMAIL) != vault().encrypt(EMAIL)


def test_digests_depend_on_the_hash_key() -> None:
    one, two = vault("hash-key-one"), vault("hash-key-two")
    assert one.email_digest(EMAIL) != two.email_digest(EMAIL)
    assert one.address_digest("203.0.113.9") != two.address_digest("203.0.113.9")
    assert one.avatar_seed(EMAIL, 1) != two.avatar_seed(EMAIL, 1)


def test_digests_are_stable_for_one_key() -> None:
    assert vault().email_digest(EMAIL) == vault().email_digest(EMAIL)
    assert vault().avatar_seed(EMAIL, 1) == vault().avatar_seed(EMAIL, 1)


def test_email_digest_and_avatar_ignore_case_and_surrounding_space() -> None:
    v = vault()
    assert v.email_digest("  ann.reader@EXAMPLE.com ") == v.email_digest(EMAIL)
    assert v.avatar_seed("ANN.READER@example.COM", 1) == v.avatar_seed(EMAIL, 1)
    assert normalise_email("  Ann@Example.COM\n") == "ann@example.com"


def test_different_emails_get_different_digests_and_avatars() -> None:
    v = vault()
    assert v.email_digest("ann@example.com") != v.email_digest("bob@example.com")
    assert v.avatar_seed("ann@example.com", 1) != v.avatar_seed("bob@example.com", 1)


def test_digests_of_one_value_differ_by_purpose() -> None:
    v = vault()
    value = "ann@example.com"
    assert len({v.digest("email", value), v.digest("ip", value), v.digest("avatar", value)}) == 3
    assert v.email_digest(value) != v.avatar_seed(value, 1)
    assert not v.email_digest(value).startswith(v.avatar_seed(value, 1))


def test_avatar_seed_is_32_hex_and_no_plain_hash_of_the_email() -> None:
    seed = vault().avatar_seed(EMAIL, 1)
    assert re.fullmatch(r"[0-9a-f]{32}", seed)
    for plain in plain_hashes(EMAIL):
        assert seed not in plain
        assert plain[:32] != seed


def test_email_digest_is_no_plain_hash_of_the_email() -> None:
    digest = vault().email_digest(EMAIL)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest not in plain_hashes(EMAIL)


def test_old_key_behind_a_new_one_still_decrypts() -> None:
    old_key, new_key = generate_encryption_key(), generate_encryption_key()
    written = vault("h", old_key).encrypt(EMAIL)
    assert vault("h", new_key, old_key).decrypt(written) == EMAIL


def test_a_removed_key_can_no_longer_decrypt() -> None:
    old_key, new_key = generate_encryption_key(), generate_encryption_key()
    written = vault("h", old_key).encrypt(EMAIL)
    with pytest.raises(ValueError, match="key that encrypted this is gone"):
        vault("h", new_key).decrypt(written)


def test_rotated_token_needs_only_the_newest_key() -> None:
    old_key, new_key = generate_encryption_key(), generate_encryption_key()
    written = vault("h", old_key).encrypt(EMAIL)
    rotated = vault("h", new_key, old_key).rotate(written)
    assert vault("h", new_key).decrypt(rotated) == EMAIL


def test_a_vault_needs_at_least_one_encryption_key() -> None:
    with pytest.raises(ValueError, match="encryption key"):
        Vault.from_keys([], "h")


def test_an_author_gets_another_avatar_on_another_site() -> None:
    # Public threads of two sites served by one installation cannot be joined by avatar.
    v = vault()
    assert v.avatar_seed(EMAIL, 1) != v.avatar_seed(EMAIL, 2)
    assert v.avatar_seed(EMAIL, 2) == v.avatar_seed(EMAIL.upper(), 2)
