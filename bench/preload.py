"""Load the fixture into a fresh Vetted database, as published comments.

The schema comes from Vetted's own migrations and the site from its own `create_site`; the
articles and comments are then inserted in bulk through the models, with the values the
submission path and an approving spam check would have stored (rendered body_html, encrypted
email and address with their digests, avatar seed, root and depth, approved counts). Submitting
21,000 comments through the API and the worker would take minutes and measure nothing the
benchmark reports. Benchmark fixture data only: no events are emitted, no webhooks queued.

Usage (VETTED_ settings in the environment): preload.py FIXTURE_JSONL SITE_SLUG
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture

from service import create_app
from service.comments.models import Comment, Status, Verdict, body_digest
from service.comments.rendering import render_body
from service.db import session_scope
from service.extensions import sessions, vault
from service.migrations import upgrade
from service.privacy.crypto import Vault
from service.sites.models import Article, ModerationMode
from service.sites.services import create_site

#: Submitters' addresses, from a documentation range (stored encrypted, never contacted).
ADDRESS = "192.0.2.{}"
BATCH = 5_000


def comment_rows(
    comments: list[fixture.FixtureComment],
    site_id: int,
    article_ids: dict[str, int],
    secrets: Vault,
) -> list[dict[str, Any]]:
    """The Comment rows of the fixture; ids are fixture index + 1, so parents resolve at once."""
    rows: list[dict[str, Any]] = []
    for c in comments:
        parent = rows[c.parent] if c.parent is not None else None
        created = dt.datetime.fromtimestamp(c.created, dt.UTC)
        address = ADDRESS.format(c.index % 250 + 1)
        rows.append(
            {
                "id": c.index + 1,
                "site_id": site_id,
                "article_id": article_ids[c.article],
                "parent_id": parent["id"] if parent else None,
                "root_id": (parent["root_id"] or parent["id"]) if parent else None,
                "depth": parent["depth"] + 1 if parent else 0,
                "author_name": c.name,
                "author_website": None,
                "email_encrypted": secrets.encrypt(c.email),
                "email_digest": secrets.email_digest(c.email),
                "avatar": secrets.avatar_seed(c.email, site_id),
                "ip_encrypted": secrets.encrypt(address),
                "ip_digest": secrets.address_digest(address),
                "user_agent": "vetted-bench",
                "referrer": None,
                "body": c.body,
                "body_digest": body_digest(c.body),
                "body_html": render_body(c.body),
                "status": Status.APPROVED,
                "verdict": Verdict.HAM,
                "spam_score": 0.0,
                "spam_reasons": [],
                "checked_at": created,
                "honeypot_filled": False,
                "elapsed_ms": 30_000,
                "featured": False,
                "listed": True,  # approved
                "version": 1,
                "created_at": created,
                "updated_at": created,
                "edited_at": None,
            }
        )
    return rows


def main(fixture_path: str, slug: str) -> None:
    """Migrate, create the site, insert the articles and comments."""
    app = create_app()
    comments = fixture.read(Path(fixture_path))
    with app.app_context():
        upgrade(app.extensions["vetted.engine"])
        with session_scope(sessions(app)) as session:
            site = create_site(session, slug, "Benchmark", ModerationMode.POST)
            counts = Counter(c.article for c in comments)
            first: dict[str, float] = {}
            for c in comments:
                first.setdefault(c.article, c.created)
            articles = {
                key: Article(
                    site_id=site.id, key=key, title=f"Article {key}", approved_count=count,
                    thread_version=1,
                    created_at=dt.datetime.fromtimestamp(first[key], dt.UTC),
                )
                for key, count in counts.items()
            }  # fmt: skip
            session.add_all(articles.values())
            session.flush()
            article_ids = {key: article.id for key, article in articles.items()}
            rows = comment_rows(comments, site.id, article_ids, vault(app))
            for start in range(0, len(rows), BATCH):
                session.execute(insert(Comment), rows[start : start + BATCH])
            session.commit()
    print(f"vetted: {len(rows)} comments in {len(articles)} articles")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
