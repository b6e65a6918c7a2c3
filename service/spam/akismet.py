"""Akismet, optional: ask it about a comment, and tell it what moderators decided.

Only used with AKISMET_API_KEY set (see options.akismet_settings); without it nothing leaves
the machine. Talks through the ``akismet`` package; AKISMET_API_URL points it at another
server speaking the same protocol (tests use a local one).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass

import akismet
import httpx
from sqlalchemy.orm import Session

from service.comments.models import Comment
from service.privacy.crypto import Vault
from service.sites.models import Article
from service.spam.feedback import Label, Source, SpamFeedback
from service.spam.options import AkismetSettings
from service.spam.signals import Effect, Reason, Signal

log = logging.getLogger(__name__)

# Akismet's "spam" alone holds a comment for a moderator (the model's unsure threshold is far
# below it, its spam threshold above it); other findings can add up to spam. Akismet is good,
# but a reader's real comment thrown away is the costly mistake. "discard" (blatant spam) is
# decisive.
SPAM_WEIGHT = 0.75
DEFAULT_API_URL = "https://rest.akismet.com"


@dataclass(frozen=True)
class AkismetComment:
    """What Akismet is told about one comment (its comment-check arguments)."""

    user_ip: str
    content: str
    author: str
    author_email: str | None = None
    author_url: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    permalink: str | None = None
    created_at: dt.datetime | None = None

    def arguments(self) -> akismet.AkismetArguments:
        """The optional arguments, the empty ones left out."""
        args: akismet.AkismetArguments = {
            "comment_type": "comment",
            "comment_content": self.content,
            "comment_author": self.author,
        }
        if self.author_email:
            args["comment_author_email"] = self.author_email
        if self.author_url:
            args["comment_author_url"] = self.author_url
        if self.user_agent:
            args["user_agent"] = self.user_agent
        if self.referrer:
            args["referrer"] = self.referrer
        if self.permalink:
            args["permalink"] = self.permalink
        if self.created_at:
            args["comment_date_gmt"] = self.created_at.astimezone(dt.UTC).isoformat()
        return args


def comment_for_akismet(
    session: Session, comment: Comment, email: str | None, address: str | None
) -> AkismetComment | None:
    """The comment as Akismet sees it; None without the author's address, which it needs."""
    if not address:
        return None
    article = session.get(Article, comment.article_id)
    return AkismetComment(
        user_ip=address,
        content=comment.body,
        author=comment.author_name,
        author_email=email,
        author_url=comment.author_website,
        user_agent=comment.user_agent,
        referrer=comment.referrer,
        permalink=article.url if article is not None else None,
        created_at=comment.created_at,
    )


class _ApiRoot(httpx.BaseTransport):
    """Sends the package's requests (always to rest.akismet.com) to the configured API root."""

    def __init__(self, api_url: str) -> None:
        self.root = httpx.URL(api_url)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self.root.scheme,
            host=self.root.host,
            port=self.root.port,
            path=self.root.path.rstrip("/") + request.url.path,
        )
        request.headers["Host"] = request.url.netloc.decode("ascii")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@functools.lru_cache(maxsize=4)
def client(settings: AkismetSettings) -> akismet.SyncClient:
    """A client for these settings, its key verified once per process."""
    transport = None if settings.api_url == DEFAULT_API_URL else _ApiRoot(settings.api_url)
    http = httpx.Client(
        headers={"User-Agent": akismet.USER_AGENT},
        timeout=settings.timeout,
        transport=transport,
    )
    config = akismet.Config(key=settings.api_key, url=settings.blog_url)
    try:
        return akismet.SyncClient.validated_client(config=config, http_client=http)
    except BaseException:
        http.close()  # not cached: the next check tries again, with a new client
        raise


def check(settings: AkismetSettings, comment: AkismetComment) -> Signal:
    """Akismet's comment-check as a signal; if Akismet cannot answer, a note that it did not."""
    try:
        answer = client(settings).comment_check(comment.user_ip, **comment.arguments())
    except akismet.AkismetError as exc:
        log.warning("Akismet comment-check failed: %s", exc)
        return Signal(Reason.AKISMET, "Akismet could not be asked.", Effect.INFO)
    if answer == akismet.CheckResponse.DISCARD:
        return Signal(Reason.AKISMET, "Akismet: blatant spam (discard).", Effect.SPAM)
    if answer == akismet.CheckResponse.SPAM:
        return Signal(Reason.AKISMET, "Akismet: spam.", weight=SPAM_WEIGHT)
    return Signal(Reason.AKISMET, "Akismet: not spam.", Effect.INFO)


def report_feedback(
    session: Session, vault: Vault, settings: AkismetSettings, feedback_id: int
) -> bool:
    """Tells Akismet a moderator's spam or ham decision (submit-spam / submit-ham).

    Returns whether anything was sent: imports, feedback whose comment is gone and comments
    without an address are not reported. Raises akismet.AkismetError when Akismet fails.
    """
    feedback = session.get(SpamFeedback, feedback_id)
    if feedback is None or feedback.source != Source.MODERATOR or feedback.comment_id is None:
        return False
    comment = session.get(Comment, feedback.comment_id)
    if comment is None:
        return False
    email = vault.decrypt(comment.email_encrypted) if comment.email_encrypted else None
    address = vault.decrypt(comment.ip_encrypted) if comment.ip_encrypted else None
    subject = comment_for_akismet(session, comment, email, address)
    if subject is None:
        return False
    api = client(settings)
    submit = api.submit_spam if feedback.label == Label.SPAM else api.submit_ham
    submit(subject.user_ip, **subject.arguments())
    return True
