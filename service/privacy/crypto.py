"""Encryption at rest and keyed digests for private data.

Emails and addresses are stored Fernet-encrypted (MultiFernet: the first key encrypts, every
key decrypts, so keys rotate without downtime) with a keyed HMAC-SHA256 digest beside them
for lookups. A digest cannot be reversed by hashing guessed emails without the server's key,
unlike the plain md5 Gravatar uses.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def normalise_email(email: str) -> str:
    """The form of an email address that digests are made from (case-insensitive)."""
    return email.strip().lower()


@dataclass(frozen=True)
class Vault:
    """Encrypts, decrypts and digests private values with the app's keys."""

    fernet: MultiFernet
    hash_key: bytes

    @classmethod
    def from_keys(cls, encryption_keys: list[str], hash_key: str) -> Vault:
        """A vault from Fernet keys (newest first) and the digest key."""
        if not encryption_keys:
            raise ValueError("at least one encryption key is needed")
        fernet = MultiFernet([Fernet(k.encode()) for k in encryption_keys])
        return cls(fernet=fernet, hash_key=hash_key.encode())

    def encrypt(self, value: str) -> bytes:
        """The value encrypted with the newest key."""
        return self.fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        """The value of a token made with any current key."""
        try:
            return self.fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: the key that encrypted this is gone") from exc

    def rotate(self, token: bytes) -> bytes:
        """The token re-encrypted with the newest key."""
        try:
            return self.fernet.rotate(token)
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: the key that encrypted this is gone") from exc

    def digest(self, purpose: str, value: str) -> str:
        """A keyed digest of ``value``, separate per purpose so digests cannot be joined."""
        message = purpose.encode() + b"\x00" + value.encode()
        return hmac.new(self.hash_key, message, hashlib.sha256).hexdigest()

    def email_digest(self, email: str) -> str:
        """The lookup digest of an email address."""
        return self.digest("email", normalise_email(email))

    def address_digest(self, address: str) -> str:
        """The lookup digest of a client IP address."""
        return self.digest("ip", address)

    def avatar_seed(self, email: str, site_id: int) -> str:
        """A public identicon seed: stable per email on one site, useless for recovering it.

        Keyed by site too: one installation serving several sites must not let the public
        threads of two sites show that their commenters are the same person.
        """
        return self.digest("avatar", f"{site_id}\x00{normalise_email(email)}")[:32]


def generate_encryption_key() -> str:
    """A new Fernet key."""
    return Fernet.generate_key().decode()
