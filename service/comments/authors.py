"""Author tokens: a signed note that lets a reader see their own comment before it is public."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "vetted.author-token"


def author_token(secret_key: str, comment_id: int) -> str:
    """A token proving its bearer wrote comment ``comment_id``."""
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(comment_id)


def token_grants(secret_key: str, token: str | None, comment_id: int, max_age: int) -> bool:
    """Whether ``token`` was issued for ``comment_id`` and has not expired."""
    if not token:
        return False
    try:
        value = URLSafeTimedSerializer(secret_key, salt=SALT).loads(token, max_age=max_age)
    except BadSignature:
        return False
    return isinstance(value, int) and value == comment_id
