"""Creating and finding sites and articles, and reading their settings."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from service.db import utcnow
from service.errors import Conflict, Invalid, NotFound
from service.sites.models import Article, ModerationMode, Site

# Every site setting with its default. Stored per site in Site.settings; absent means default.
SETTINGS: dict[str, Any] = {
    # More links than this in a body makes the comment suspect (WordPress holds at 2).
    "max_links": 2,
    # Origins allowed to call the public API from a browser; empty: reads from anywhere,
    # writes from nowhere but same-origin.
    "allowed_origins": [],
    # Replies nest this deep; deeper replies are shown at the last level.
    "thread_depth": 5,
    # Articles older than this many days take no new comments (None: never close).
    "close_after_days": None,
    # Words or phrases that mark a comment as spam, or hold it for review.
    "blocked_words": [],
    "suspect_words": [],
    # Emails and email domains whose comments are spam.
    "blocked_emails": [],
    "blocked_domains": [],
    # Verdict thresholds on the spam score (0..1): spam at or above spam_threshold, held for a
    # moderator (unsure) at or above unsure_threshold. None: the spam model's own, chosen on
    # held-out data for at most 1 % of legitimate comments marked spam (service/spam/model).
    "spam_threshold": None,
    # The model's own unsure threshold (0.10) lets through at most 2 % of the training
    # domain's spam, but holds 7-25 % of legitimate comments, news comments like "Great
    # article, thanks!" among them (0.20): too many for post moderation. 0.5 holds only what
    # the model leans towards calling spam; a site that wants the model's own sets None.
    "unsure_threshold": 0.5,
    # Whether the text classifier scores comments. False: rules (and Akismet) only, e.g. for a
    # site not in English, a language the shipped model never saw.
    "spam_classifier": True,
    # What a moderator's block (service.moderation.blocks) does to a matching submission:
    # "hold" stores it and the spam check marks it spam, so the sender learns nothing;
    # "reject" refuses it with a clear message (403, or 422 for a blocked phrase).
    "block_action": "hold",
    # What erasing an author's data (GDPR art. 17) does to their comments: "delete" removes
    # them from threads and wipes their text; "anonymise" keeps the text without the author.
    "erase_mode": "delete",
}

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ARTICLE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~/-]{0,199}$")


def create_site(
    session: Session,
    slug: str,
    name: str | None = None,
    moderation: ModerationMode = ModerationMode.POST,
    settings: dict[str, Any] | None = None,
) -> Site:
    """Creates a site; its slug is the name used in URLs."""
    if not SLUG.match(slug):
        raise Invalid.field("slug", "Use 1-64 lowercase letters, digits and dashes.")
    unknown = set(settings or {}) - set(SETTINGS)
    if unknown:
        raise Invalid.field("settings", f"Unknown settings: {', '.join(sorted(unknown))}.")
    site = Site(slug=slug, name=name or slug, moderation=moderation, settings=settings or {})
    session.add(site)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"A site named {slug!r} exists already.") from exc
    return site


def site_by_slug(session: Session, slug: str) -> Site:
    """The site with this slug, or NotFound."""
    site = session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise NotFound(f"There is no site {slug!r}.")
    return site


def list_sites(session: Session) -> list[Site]:
    """Every site, by slug."""
    return list(session.scalars(select(Site).order_by(Site.slug)))


def find_article(session: Session, site: Site, key: str) -> Article | None:
    """The article with this key, if anyone commented on it yet."""
    return session.scalar(select(Article).where(Article.site_id == site.id, Article.key == key))


def check_article_key(key: str) -> None:
    """Invalid unless key can name an article (ARTICLE_KEY)."""
    if not ARTICLE_KEY.match(key):
        raise Invalid.field("article", "Article keys are 1-200 letters, digits and ._~/-")


def get_or_create_article(
    session: Session, site: Site, key: str, url: str | None = None, title: str | None = None
) -> Article:
    """The article with this key, created on first use; fills in url and title once known."""
    check_article_key(key)
    article = find_article(session, site, key)
    if article is None:
        try:
            # Added inside the savepoint, so that its rollback takes the loser's insert away
            # too: added before it, the article stayed pending and the re-read flushed it again.
            with session.begin_nested():
                article = Article(site_id=site.id, key=key, url=url, title=title)
                session.add(article)
        except IntegrityError:
            # Another request created it between our read and our insert.
            article = find_article(session, site, key)
            assert article is not None
    if url and not article.url:
        article.url = url
    if title and not article.title:
        article.title = title
    return article


def lock_article(session: Session, article: Article) -> None:
    """Holds the article's row until the transaction ends: another transaction that locks it
    waits for this one to commit, then reads what it wrote.

    An UPDATE that changes nothing, not SELECT ... FOR UPDATE, which SQLite lacks: there it
    takes the database's write lock, which serializes the same way.
    """
    session.execute(
        update(Article)
        .where(Article.id == article.id)
        .values(thread_version=Article.thread_version)
        .execution_options(synchronize_session=False)
    )


def article_is_closed(site: Site, article: Article, now: dt.datetime | None = None) -> bool:
    """Whether an article takes no new comments (locked, or older than the site allows)."""
    return is_closed(article.locked, article.created_at, site.setting("close_after_days"), now)


def is_closed(
    locked: bool, created_at: dt.datetime, close_after_days: int | None, now: dt.datetime | None
) -> bool:
    """Whether an article so locked and so old takes no new comments."""
    if locked:
        return True
    if close_after_days is None:
        return False
    return (now or utcnow()) - created_at > dt.timedelta(days=int(close_after_days))


def setting_of(settings: dict[str, Any] | None, name: str) -> Any:
    """A site's setting from its stored settings, falling back to the default."""
    return (settings or {}).get(name, SETTINGS[name])


# Set in a session's info when a public thread changed in its transaction: once it commits, the
# process forgets the thread versions it trusted (service.extensions).
THREAD_CHANGED_KEY = "vetted.thread_changed"


def touch_thread(article: Article) -> None:
    """Marks the article's public thread as changed, so caches revalidate."""
    article.thread_version = (article.thread_version or 0) + 1
    session = object_session(article)
    if session is not None:
        session.info[THREAD_CHANGED_KEY] = True
