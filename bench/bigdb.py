"""A big site on PostgreSQL: do the thread read and the moderation queue stay index-fast?

Generates, with Vetted's own migrations and one INSERT ... SELECT generate_series each, a big
database (1,000,000 comments over 10,000 articles) and a small one of the same shape (10,000
comments over 100 articles) plus, in each, one article of 10,000 comments: every fifth comment a
reply, and in every article 2 % pending and 1 % spam. Then times the service's own thread read
and the moderation queue's first page on both, and prints the EXPLAIN (ANALYZE, BUFFERS) of
every statement they run on the big one, failing if any scans the comments table sequentially.
The databases are kept and reused while their shape matches (`--fresh` rebuilds them). Writes
results/bigdb.md.

Usage: .venv/bin/python bench/bigdb.py [--fresh]  (PostgreSQL on 127.0.0.1:5432, user postgres)
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.orm import Session

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from service.comments.models import Comment, Status  # noqa: E402
from service.comments.threads import Sort, read_thread  # noqa: E402
from service.db import make_engine  # noqa: E402
from service.migrations import alembic_config, upgrade  # noqa: E402
from service.moderation.queue import QueueFilter, load_context, read_queue  # noqa: E402
from service.sites.models import Article, ModerationMode, Site  # noqa: E402
from service.sites.services import create_site  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SHAPES = {"vetted_bench": (1_000_000, 10_000), "vetted_bench_small": (10_000, 100)}
GENERATOR_VERSION = 3
STATEMENT_TIMEOUT_MS = 600_000
TIMED_CALLS = 50
QUEUE_PAGE = 50
#: One more article, in both databases, with this many comments: its first page must not
#: cost more than a small thread's.
HOT_COMMENTS = 10_000
#: Operation -> (median ms, comments returned).
Timings = dict[str, tuple[float, int]]
#: "As fast as on a small database", with room for noise: slower than this fails the run.
SLOWER_AT_MOST = 2.0
#: A plan node's "actual ... rows=R loops=L".
ACTUAL_ROWS = re.compile(r"actual time=\S+ rows=(\d+) loops=(\d+)")

COMMENTS_SQL = """
INSERT INTO comments (
  id, site_id, article_id, parent_id, root_id, depth, author_name, author_website,
  email_encrypted, email_digest, avatar, ip_encrypted, ip_digest, user_agent, referrer,
  body, body_digest, body_html, status, verdict, spam_score, spam_reasons, checked_at,
  honeypot_filled, elapsed_ms, featured, listed, version, created_at, updated_at, edited_at)
SELECT :offset + g, :site, :first_article + (g - 1) % :articles,
  reply.parent, reply.parent, CASE WHEN reply.parent IS NULL THEN 0 ELSE 1 END,
  'Reader ' || g, NULL, NULL, md5('email' || g), md5('avatar' || g), NULL, md5('ip' || g),
  'vetted-bench', NULL, b.body, left(encode(sha256(convert_to(b.body, 'UTF8')), 'hex'), 32),
  '<p>' || b.body || '</p>', s.status,
  CASE s.status WHEN 'approved' THEN 'ham' WHEN 'spam' THEN 'spam' END,
  CASE s.status WHEN 'spam' THEN 0.95 ELSE 0.1 END, '[]'::json,
  CASE WHEN s.status = 'pending' AND g % 2 = 0 THEN NULL ELSE t.at END, false, 30000, false,
  s.status = 'approved', 1,
  t.at, t.at, NULL
FROM generate_series(1, :comments) AS g
CROSS JOIN LATERAL (SELECT CASE WHEN ((g - 1) / :articles) % 5 = 4
                    THEN :offset + g - :articles END AS parent) AS reply
CROSS JOIN LATERAL (SELECT left(repeat(md5(g::text) || ' ', 13), 20 + g % 381) AS body) AS b
CROSS JOIN LATERAL (SELECT CASE WHEN ((g - 1) / :articles + g) % 100 < 2 THEN 'pending'
                    WHEN ((g - 1) / :articles + g) % 100 = 2 THEN 'spam'
                    ELSE 'approved' END AS status) AS s
CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00'
                    + (:offset + g) * interval '1 second' AS at) AS t
"""


def ensure(name: str, fresh: bool) -> Engine:
    """The database `name` with its shape, generated unless an identical one exists."""
    comments, articles = SHAPES[name]
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    heads = ",".join(sorted(ScriptDirectory.from_config(alembic_config(admin)).get_heads()))
    # A new migration changes the shape: the rows must be generated for the schema it makes.
    shape = f"{GENERATOR_VERSION}:{comments}:{articles}:{heads}"
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
    # The service's own engine: its connection settings decide which plans PostgreSQL uses.
    engine = make_engine(f"{SERVER}/{name}")
    if exists and not fresh and _stored_shape(engine) == shape:
        print(f"{name}: reusing ({comments:,} comments)", flush=True)
        return engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(f"{SERVER}/{name}")
    started = time.monotonic()
    generate(engine, comments, articles, shape)
    print(f"{name}: {comments:,} comments generated in {time.monotonic() - started:.0f} s",
          flush=True)  # fmt: skip
    return engine


def _stored_shape(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            shape = connection.scalar(text("SELECT shape FROM bench_shape"))
            return str(shape) if shape is not None else None
    except Exception:  # no such table: not ours, or half made
        return None


def generate(engine: Engine, comments: int, articles: int, shape: str) -> None:
    """Schema by the migrations, the site by the service, rows by generate_series."""
    upgrade(engine)
    with Session(engine) as session:
        site = create_site(session, "bench", "Benchmark", ModerationMode.POST)
        session.commit()
        site_id = site.id
    with engine.begin() as connection:
        connection.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        connection.execute(
            text(
                "INSERT INTO articles (site_id, key, title, approved_count, thread_version, locked,"
                " created_at) SELECT :site, 'a' || lpad(a::text, 5, '0'), 'Article ' || a, 0, 1,"
                " false, timestamptz '2024-01-01 00:00:00+00' FROM generate_series(1, :n) a"
            ),
            {"site": site_id, "n": articles},
        )
        first = connection.scalar(text("SELECT min(id) FROM articles"))
        params = {"site": site_id, "first_article": first, "articles": articles,
                  "comments": comments, "offset": 0}  # fmt: skip
        connection.execute(text(COMMENTS_SQL), params)
        # A held or spam top-level comment with an approved reply stays as its placeholder
        # (service.comments.services._relist); replies here are one level deep.
        connection.execute(
            text(
                "UPDATE comments SET listed = true WHERE NOT listed AND id IN"
                " (SELECT parent_id FROM comments WHERE listed AND parent_id IS NOT NULL)"
            )
        )
        hot = connection.scalar(
            text(
                "INSERT INTO articles (site_id, key, title, approved_count, thread_version, locked,"
                " created_at) VALUES (:site, 'hot', 'Hot article', 0, 1, false,"
                " timestamptz '2024-01-01 00:00:00+00') RETURNING id"
            ),
            {"site": site_id},
        )
        params = {"site": site_id, "first_article": hot, "articles": 1, "comments": HOT_COMMENTS,
                  "offset": comments}  # fmt: skip
        connection.execute(text(COMMENTS_SQL), params)
        connection.execute(text("SELECT setval('comments_id_seq', (SELECT max(id) FROM comments))"))
        connection.execute(
            text(
                "UPDATE articles SET approved_count = c.n FROM (SELECT article_id, count(*) AS n"
                " FROM comments WHERE status = 'approved' GROUP BY article_id) AS c"
                " WHERE c.article_id = articles.id"
            )
        )
        connection.execute(text("CREATE TABLE bench_shape (shape text NOT NULL)"))
        connection.execute(text("INSERT INTO bench_shape VALUES (:s)"), {"s": shape})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def moderation_queue(session: Session, site: Site) -> list[Comment]:
    """What the queue's view reads for its first page: pending, oldest first, with context."""
    query = QueueFilter(site_ids=(site.id,), status=Status.PENDING)
    page = read_queue(session, query, Sort.OLDEST, QUEUE_PAGE, None)
    load_context(session, page.comments)
    return page.comments


def operations(session: Session) -> dict[str, Callable[[], Any]]:
    """The reads measured, each bound to a mid-site article (the same position in both)."""
    site = session.scalars(select(Site).where(Site.slug == "bench")).one()
    keys = list(
        session.scalars(select(Article.key).where(Article.key != "hot").order_by(Article.key))
    )
    article = session.scalars(select(Article).where(Article.key == keys[len(keys) // 2])).one()
    hot = session.scalars(select(Article).where(Article.key == "hot")).one()
    return {
        "thread of 100, first page (20)": lambda: read_thread(session, article),
        "thread of 100, in full (limit 100)": lambda: read_thread(session, article, limit=100),
        f"thread of {HOT_COMMENTS:,}, first page (20)": lambda: read_thread(session, hot),
        f"moderation queue, first page ({QUEUE_PAGE})": lambda: moderation_queue(session, site),
    }


def returned(result: Any) -> int:
    """How many comments an operation returned, replies included."""
    if isinstance(result, list):
        return len(result)

    def count(nodes: list[dict[str, Any]]) -> int:
        return sum(1 + count(node["replies"]) for node in nodes)

    return count(result.comments)


def time_operations(engine: Engine) -> Timings:
    """Median milliseconds of each operation over TIMED_CALLS calls, and the rows it returned."""
    medians = {}
    with Session(engine) as session:
        for name, call in operations(session).items():
            rows = returned(call())
            samples = []
            for _ in range(TIMED_CALLS):
                session.expunge_all()
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
            medians[name] = (statistics.median(samples), rows)
    return medians


def explain(engine: Engine) -> dict[str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement each operation runs."""
    plans: dict[str, list[str]] = {}
    with Session(engine) as session:
        captured: list[tuple[str, Any]] = []

        def capture(*args: Any) -> None:
            _conn, _cursor, statement, parameters, _context, _many = args
            captured.append((statement, parameters))

        for name, call in operations(session).items():
            captured.clear()
            event.listen(engine, "before_cursor_execute", capture)
            session.expunge_all()
            call()
            event.remove(engine, "before_cursor_execute", capture)
            plans[name] = []
            for statement, parameters in list(captured):
                rows = session.connection().exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                )
                plans[name].append("\n".join(row[0] for row in rows))
    return plans


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) both databases, time, explain, write results/bigdb.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="regenerate both databases")
    args = parser.parse_args(argv)
    engines = {name: ensure(name, args.fresh) for name in SHAPES}
    small, big = (
        time_operations(engines["vetted_bench_small"]),
        time_operations(engines["vetted_bench"]),
    )
    plans = explain(engines["vetted_bench"])
    problems = [
        f"{name}: sequential scan of comments"
        for name, texts in plans.items()
        if any("Seq Scan on comments" in plan for plan in texts)
    ] + [
        f"{name}: {big[name][0] / small[name][0]:.1f} times slower on the big database"
        for name in small
        if big[name][0] > SLOWER_AT_MOST * small[name][0]
    ]
    text_out = render(small, big, plans, problems)
    print(text_out)
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "bigdb.md").write_text(text_out)
    return 1 if problems else 0


def rows_read(plans: list[str]) -> int:
    """The most rows any one node of the plans produced: a scan proportional to the site shows."""
    return max(
        (int(rows) * int(loops) for plan in plans for rows, loops in ACTUAL_ROWS.findall(plan)),
        default=0,
    )


def render(small: Timings, big: Timings, plans: dict[str, list[str]], problems: list[str]) -> str:
    """The timings table and the plans, as Markdown."""
    lines = [
        "# Big site on PostgreSQL",
        "",
        f"Small: {SHAPES['vetted_bench_small'][0]:,} comments over "
        f"{SHAPES['vetted_bench_small'][1]:,} articles; big: {SHAPES['vetted_bench'][0]:,} over "
        f"{SHAPES['vetted_bench'][1]:,}; 100 comments an article in both, plus one article of "
        f"{HOT_COMMENTS:,} comments in each. Median of "
        f"{TIMED_CALLS} calls of the service's own functions, in ms. Last column: the most rows "
        "one node of the big database's plans produced (a read proportional to the site shows "
        "there even when it uses an index).",
        "",
        "| read | comments returned | small DB | big DB | big / small | most rows, one node |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name, (small_ms, rows) in small.items():
        big_ms, big_rows = big[name]
        lines.append(
            f"| {name} | {rows} / {big_rows} | {small_ms:.2f} | {big_ms:.2f} "
            f"| {big_ms / small_ms:.2f} | {rows_read(plans[name]):,} |"
        )
    lines += ["", "Problems: " + ("; ".join(problems) or "none"), ""]
    for name, texts in plans.items():
        lines += [f"## {name}", ""]
        for plan in texts:
            lines += ["```", plan, "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
