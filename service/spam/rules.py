"""The rule checks: each looks at one comment in its site's context and returns signals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.comments.models import Comment
from service.comments.rendering import count_links
from service.comments.services import has_approved_comment
from service.moderation.blocks import (
    Author,
    author_text,
    contains_phrase,
    email_domain,
    matching_blocks,
)
from service.moderation.models import BlockKind
from service.sites.models import Site
from service.spam.options import CheckOptions
from service.spam.signals import Effect, Reason, Signal

# Humans take more than this to read an article and write a comment.
TOO_FAST_MS = 3_000


@dataclass(frozen=True)
class CheckContext:
    """What the rules may look at: the comment, its site, its author's decrypted email and IP."""

    session: Session
    site: Site
    comment: Comment
    email: str | None
    address: str | None = None
    options: CheckOptions = field(default_factory=CheckOptions)


Rule = Callable[[CheckContext], list[Signal]]


def blocked_email(ctx: CheckContext) -> list[Signal]:
    """An email or email domain the site blocked."""
    if not ctx.email:
        return []
    email = ctx.email.lower()
    domain = email.rpartition("@")[2]
    emails = {e.strip().lower() for e in ctx.site.setting("blocked_emails")}
    domains = {d.strip().lower().lstrip("@") for d in ctx.site.setting("blocked_domains")}
    if email in emails:
        return [Signal(Reason.BLOCKED_EMAIL, "The author's email is blocked.", Effect.SPAM)]
    for listed in sorted(domains):
        if domain == listed or domain.endswith("." + listed):
            # The listed entry, not the author's own domain: moderators see emails only by
            # asking to (reveal, audited), and a subdomain can name a person.
            detail = f"The email domain is in blocked_domains ({listed})."
            return [Signal(Reason.BLOCKED_EMAIL, detail, Effect.SPAM)]
    return []


def listed_words(ctx: CheckContext) -> list[Signal]:
    """Banned words mark spam; suspect words hold the comment for a moderator."""
    comment = ctx.comment
    text = author_text(comment.author_name, comment.author_website, comment.body)
    signals = []
    for word in _found(ctx.site.setting("blocked_words"), text):
        signals.append(Signal(Reason.BANNED_WORD, f"Contains {word!r}.", Effect.SPAM))
    for word in _found(ctx.site.setting("suspect_words"), text):
        signals.append(Signal(Reason.SUSPECT_WORD, f"Contains {word!r}.", Effect.HOLD))
    return signals


def _found(words: list[str], text: str) -> list[str]:
    """The listed words or phrases that occur in ``text`` as whole words, any case."""
    return [word.strip() for word in words if contains_phrase(text, word)]


def too_many_links(ctx: CheckContext) -> list[Signal]:
    """More links than the site allows (WordPress holds at two)."""
    links = count_links(ctx.comment.body)
    allowed = int(ctx.site.setting("max_links"))
    if links <= allowed:
        return []
    # More than twice the limit is spam; where no link is allowed, one is only held.
    weight = 0.95 if links > max(2 * allowed, 1) else 0.6
    return [Signal(Reason.LINKS, f"{links} links; the site allows {allowed}.", weight=weight)]


def honeypot(ctx: CheckContext) -> list[Signal]:
    """The field hidden from people was filled in: a form-filling bot."""
    if ctx.comment.honeypot_filled:
        return [Signal(Reason.HONEYPOT, "The hidden honeypot field was filled.", Effect.SPAM)]
    return []


def too_fast(ctx: CheckContext) -> list[Signal]:
    """The form was sent faster than a person can write."""
    elapsed = ctx.comment.elapsed_ms
    if elapsed is None or elapsed >= TOO_FAST_MS:
        return []
    return [Signal(Reason.TOO_FAST, f"Written in {elapsed} ms.", weight=0.3)]


def repeated_body(ctx: CheckContext) -> list[Signal]:
    """The same author posted the same text before on this site."""
    comment = ctx.comment
    if not comment.email_digest or len(comment.body.strip()) < ctx.options.repeat_min_length:
        return []  # a reader may well say "Agreed, well said." under two articles
    earlier = ctx.session.scalar(
        select(Comment.id)
        .where(
            Comment.site_id == comment.site_id,
            Comment.email_digest == comment.email_digest,
            Comment.body == comment.body,
            Comment.id < comment.id,
        )
        .limit(1)
    )
    if earlier is None:
        return []
    return [Signal(Reason.REPEAT_POST, f"Same text as comment {earlier}.", weight=0.6)]


def repeated_across_articles(ctx: CheckContext) -> list[Signal]:
    """Another author posted the same text on another article of the site recently: a campaign."""
    comment = ctx.comment
    options = ctx.options
    if len(comment.body.strip()) < options.repeat_min_length:
        return []
    since = comment.created_at - dt.timedelta(seconds=options.repeat_window)
    query = select(Comment.id).where(
        Comment.site_id == comment.site_id,
        Comment.body_digest == comment.body_digest,  # the index; the text itself confirms
        Comment.body == comment.body,
        Comment.article_id != comment.article_id,
        Comment.created_at >= since,
        Comment.id < comment.id,
    )
    if comment.email_digest:
        # The same author's repeats are repeated_body's, at any time and on any article.
        query = query.where(
            or_(Comment.email_digest.is_(None), Comment.email_digest != comment.email_digest)
        )
    earlier = ctx.session.scalar(query.order_by(Comment.id.desc()).limit(1))
    if earlier is None:
        return []
    detail = f"Same text as comment {earlier} by another author on another article."
    return [Signal(Reason.REPEAT_POST, detail, weight=0.6)]


def flood(ctx: CheckContext) -> list[Signal]:
    """A burst of comments from one address or one author on this site."""
    comment = ctx.comment
    options = ctx.options
    sources = [
        (label, column == digest)
        for label, column, digest in (
            ("address", Comment.ip_digest, comment.ip_digest),
            ("author", Comment.email_digest, comment.email_digest),
        )
        if digest
    ]
    if not sources:
        return []
    since = comment.created_at - dt.timedelta(seconds=options.flood_window)
    # One query for both counts: this runs on every comment, in the verdict's latency.
    counts = ctx.session.execute(
        select(*(func.count(Comment.id).filter(match) for _, match in sources)).where(
            Comment.site_id == comment.site_id,
            Comment.created_at >= since,
            Comment.id < comment.id,
            or_(*(match for _, match in sources)),
        )
    ).one()
    # One burst is one finding: an author flooding from one address counts once, at its worst.
    label, count = max(
        zip((label for label, _ in sources), counts, strict=True), key=lambda x: x[1]
    )
    if count < options.flood_max:
        return []
    weight = 0.95 if count >= 2 * options.flood_max else 0.6
    detail = f"{count} earlier comments from this {label} in {options.flood_window} s."
    return [Signal(Reason.FLOOD, detail, weight=weight)]


def new_commenter(ctx: CheckContext) -> list[Signal]:
    """The author has no approved comment on this site yet (shown to moderators, no weight)."""
    comment = ctx.comment
    if not comment.email_digest:
        return []
    if has_approved_comment(ctx.session, ctx.site, comment.email_digest, before=comment.id):
        return []
    detail = "No earlier approved comment from this author on this site."
    return [Signal(Reason.NEW_COMMENTER, detail, Effect.INFO)]


_BLOCK_REASONS = {
    BlockKind.EMAIL: Reason.BLOCKED_EMAIL,
    BlockKind.DOMAIN: Reason.BLOCKED_EMAIL,
    BlockKind.IP: Reason.BLOCKED_IP,
    BlockKind.WORD: Reason.BANNED_WORD,
}


def moderator_blocks(ctx: CheckContext) -> list[Signal]:
    """The site's blocks (service.moderation.blocks) on this author, address or text."""
    comment = ctx.comment
    author = Author(
        email_digest=comment.email_digest,
        domain=email_domain(ctx.email),
        address=ctx.address,
        address_digest=comment.ip_digest,
        text=author_text(comment.author_name, comment.author_website, comment.body),
    )
    return [
        Signal(_BLOCK_REASONS[match.kind], match.detail, Effect.SPAM)
        for match in matching_blocks(ctx.session, ctx.site, author)
    ]


RULES: tuple[Rule, ...] = (
    moderator_blocks,
    blocked_email,
    listed_words,
    too_many_links,
    honeypot,
    too_fast,
    repeated_body,
    repeated_across_articles,
    flood,
    new_commenter,
)
