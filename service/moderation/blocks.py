"""Blocks: a site's bans on an email, an email domain, an address or network, or a phrase.

Blocks act on the next submission at once: with the site's ``block_action`` "reject" the
submission is refused with a clear message; with "hold" it is stored and the spam check marks
it spam, the block shown among its reasons. Emails are blocked by keyed digest only.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from service.comments.forms import Submission
from service.comments.models import Comment
from service.comments.services import Client, comment_on_site
from service.db import utcnow
from service.errors import Forbidden, Invalid, NotFound
from service.moderation.audit import Actor, record
from service.moderation.models import Action, Block, BlockKind
from service.privacy.addresses import parse_address
from service.privacy.crypto import Vault
from service.sites.models import Site

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PHRASE_MAX = 200
log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import re2


@dataclass(frozen=True)
class BlockSpec:
    """A block as a moderator asked for it, validated for shape at the edge."""

    kind: BlockKind
    value: str | None = None
    comment_id: int | None = None
    regex: bool = False
    note: str | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class Author:
    """What blocks are matched against: digests, the clear address and the comment's text."""

    email_digest: str | None
    domain: str | None
    address: str | None
    address_digest: str | None
    text: str


@dataclass(frozen=True)
class BlockMatch:
    """A block that matched, with a detail safe to show (never the email or the address)."""

    block_id: int
    kind: BlockKind
    detail: str


# Characters that show as nothing but are not format characters (Cf): the combining grapheme
# joiner, Hangul fillers, Mongolian and other variation selectors.
_BLANKS = frozenset(
    "\u034f\u115f\u1160\u3164\uffa0\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
# A pattern matching any of these would match every comment: "", ".*", "\b", "[a-z]", "\w".
_ANY_COMMENT = ("", " ", "a", "1")
# The widest network an IP block may name, by IP version: a typo such as 0.0.0.0/0 blocked all.
_WIDEST_PREFIX = {4: 8, 6: 16}


def create_block(
    session: Session, vault: Vault, site: Site, spec: BlockSpec, actor: Actor
) -> Block:
    """Adds a block to a site; a comment id blocks that comment's author or address."""
    block = Block(
        site_id=site.id,
        kind=spec.kind,
        regex=spec.regex and spec.kind == BlockKind.WORD,
        note=spec.note,
        token_id=actor.token_id,
        expires_at=spec.expires_at,
    )
    if spec.comment_id is not None:
        block.digest = _digest_of_comment(session, site, spec)
    else:
        block.value, block.digest = _value_and_digest(vault, spec)
    session.add(block)
    session.flush()
    record(
        session,
        actor,
        Action.BLOCK,
        site_id=site.id,
        subject=f"block:{block.id}",
        detail={"kind": block.kind.value},
    )
    return block


def _digest_of_comment(session: Session, site: Site, spec: BlockSpec) -> str:
    assert spec.comment_id is not None
    comment: Comment = comment_on_site(session, site, spec.comment_id)
    if spec.kind == BlockKind.EMAIL and comment.email_digest:
        return comment.email_digest
    if spec.kind == BlockKind.IP and comment.ip_digest:
        return comment.ip_digest
    raise Invalid.field("comment_id", f"This comment has no {spec.kind.value} to block.")


def _value_and_digest(vault: Vault, spec: BlockSpec) -> tuple[str | None, str | None]:
    value = (spec.value or "").strip()
    if not value:
        raise Invalid.field("value", "Give the value to block, or a comment_id.")
    if spec.kind == BlockKind.EMAIL:
        if "@" not in value:
            raise Invalid.field("value", "Enter an email address.")
        return None, vault.email_digest(value)
    if spec.kind == BlockKind.DOMAIN:
        domain = value.lower().lstrip("@")
        if not DOMAIN.match(domain):
            raise Invalid.field("value", "Enter a domain name such as spam.example.")
        return domain, None
    if spec.kind == BlockKind.IP:
        return _network(value), None
    return _phrase(value, spec.regex), None


def _network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise Invalid.field("value", "Enter an IP address or a CIDR network.") from exc
    if network.prefixlen < _WIDEST_PREFIX[network.version]:
        widest = _WIDEST_PREFIX[network.version]
        detail = f"A network wider than /{widest} would block most readers (0.0.0.0/0: all)."
        raise Invalid.field("value", detail)
    return str(network)


def _phrase(value: str, regex: bool) -> str:
    if len(value) > PHRASE_MAX:
        raise Invalid.field("value", f"Phrases and patterns are at most {PHRASE_MAX} characters.")
    if regex:
        try:
            pattern = _pattern(value)
        except _re2().error as exc:
            detail = f"This is not a valid RE2 expression: {_why(exc)}."
            raise Invalid.field("value", detail) from exc
        if any(pattern.search(text) is not None for text in _ANY_COMMENT):
            raise Invalid.field("value", "This pattern matches almost any text, so every comment.")
    return value


def _re2() -> Any:
    """RE2, imported on the first pattern block: 1.5 MB that most web workers never need."""
    import re2

    return re2


@functools.lru_cache(maxsize=1024)
def _pattern(value: str) -> re2._Regexp:
    """Compiles a moderator's pattern with RE2, any case.

    RE2 matches in time linear in the text, whatever the pattern: a pattern such as (a+)+$,
    which sends Python's backtracking re into minutes on a long comment, cannot stall the web
    process that checks a submission against the site's blocks. It has no look-around or
    back-references; those patterns are refused when the block is made.
    """
    engine = _re2()
    options = engine.Options()
    options.case_sensitive = False
    options.log_errors = False
    return engine.compile(value, options)


def _why(error: Exception) -> str:
    reason = error.args[0] if error.args else "unreadable"
    return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)


def list_blocks(session: Session, site: Site, include_expired: bool = False) -> list[Block]:
    """A site's blocks, newest first."""
    query = select(Block).where(Block.site_id == site.id)
    if not include_expired:
        query = query.where(_active())
    return list(session.scalars(query.order_by(Block.id.desc())))


def remove_block(session: Session, site: Site, block_id: int, actor: Actor) -> None:
    """Lifts a block at once."""
    block = session.get(Block, block_id)
    if block is None or block.site_id != site.id:
        raise NotFound("There is no such block.")
    record(
        session,
        actor,
        Action.UNBLOCK,
        site_id=site.id,
        subject=f"block:{block.id}",
        detail={"kind": block.kind.value},
    )
    session.delete(block)
    session.flush()


def _active() -> ColumnElement[bool]:
    return or_(Block.expires_at.is_(None), Block.expires_at > utcnow())


def matching_blocks(session: Session, site: Site, author: Author) -> list[BlockMatch]:
    """The site's live blocks that match this author or text."""
    blocks = session.scalars(select(Block).where(Block.site_id == site.id, _active()))
    return [match for block in blocks if (match := _match(block, author)) is not None]


def _match(block: Block, author: Author) -> BlockMatch | None:
    matched = False
    detail = ""
    if block.kind == BlockKind.EMAIL:
        matched = block.digest is not None and block.digest == author.email_digest
        detail = "The author's email is blocked"
    elif block.kind == BlockKind.DOMAIN and author.domain and block.value:
        matched = author.domain == block.value or author.domain.endswith("." + block.value)
        detail = f"The email domain {block.value} is blocked"
    elif block.kind == BlockKind.IP:
        matched = _address_matches(block, author)
        detail = "The author's address is blocked"
    elif block.kind == BlockKind.WORD and block.value:
        matched = _text_matches(block.value, block.regex, author.text)
        shown = "pattern" if block.regex else "phrase"
        detail = f"Contains the blocked {shown} {block.value!r}"
    return BlockMatch(block.id, block.kind, f"{detail} (block {block.id}).") if matched else None


def _address_matches(block: Block, author: Author) -> bool:
    if block.digest is not None:
        return block.digest == author.address_digest
    address = parse_address(author.address)
    if address is None or block.value is None:
        return False
    return address in ipaddress.ip_network(block.value)


def _text_matches(value: str, regex: bool, text: str) -> bool:
    if regex:
        try:
            return _pattern(value).search(comparable(text)) is not None
        except _re2().error as exc:  # stored before patterns were checked with RE2
            log.warning("A pattern block no longer compiles, so it matches nothing: %s", _why(exc))
            return False
    return contains_phrase(text, value)


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether text holds the phrase as whole words, any case, any run of spaces between them:
    phrase blocks and the site's word lists (spam.rules). Both are compared as comparable()
    makes them, so that padding, fullwidth letters or a zero-width space do not evade it."""
    words = r"\s+".join(re.escape(part) for part in comparable(phrase).split())
    found = re.search(rf"(?<!\w){words}(?!\w)", comparable(text), re.IGNORECASE)
    return bool(words) and found is not None


@functools.lru_cache(maxsize=256)
def comparable(text: str) -> str:
    """text in NFKC form (fullwidth "casino" is "casino") without the characters that show as
    nothing (zero-width spaces, soft hyphens, fillers): what a reader sees, as blocks and word
    lists must match it."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf" and ch not in _BLANKS)


def author_text(name: str, website: str | None, body: str) -> str:
    """The text that phrase blocks look at, as the spam rules do: name, website and body."""
    return f"{name}\n{website or ''}\n{body}"


def email_domain(email: str | None) -> str | None:
    """The domain of an email, lowercased."""
    return email.rpartition("@")[2].lower() if email else None


def refuse_blocked(
    session: Session, vault: Vault, site: Site, submission: Submission, client: Client
) -> None:
    """The submission check: refuses a blocked submission when the site rejects them."""
    if site.setting("block_action") != "reject":
        return  # held: the spam check marks it spam with the block among its reasons
    author = Author(
        email_digest=vault.email_digest(submission.email),
        domain=email_domain(submission.email),
        address=client.address,
        address_digest=vault.address_digest(client.address) if client.address else None,
        text=author_text(submission.name, submission.website, submission.body),
    )
    matches = matching_blocks(session, site, author)
    if any(m.kind == BlockKind.WORD for m in matches):
        raise Invalid.field("body", "Your comment contains words this site does not accept.")
    if matches:
        raise Forbidden("This site does not accept comments from you.")
