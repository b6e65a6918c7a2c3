"""Load the fixture into a fresh Isso database; run with the Isso virtualenv's Python.

Isso's own `SQLite3` class makes the schema. The threads and comments are then inserted in one
transaction each with the same columns and values that `Comments.add` writes
(published, an anonymised address, the voters Bloom filter, a reply's parent lifted to the top-level
comment as Isso does). Posting 21,000 comments through the API would instead take minutes, because
Isso opens a new SQLite connection per statement and commits each insert.

Usage: preload.py ISSO_CFG FIXTURE_JSONL
"""

import sqlite3
import sys
from pathlib import Path

from isso import config
from isso.db import SQLite3
from isso.utils import Bloomfilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import fixture

#: Stored addresses are anonymised to the /24; this one is from a documentation range, so the
#: guard's per-address queries during the run never count fixture comments.
FIXTURE_ADDRESS = "192.0.2.0"
PUBLISHED = 1


def main(cfg_path: str, fixture_path: str) -> None:
    """Create the schema, the threads, then insert every fixture comment."""
    conf = config.load(config.default_file(), cfg_path)
    db = SQLite3(conf.get("general", "dbpath"), conf)
    comments = fixture.read(Path(fixture_path))
    articles = dict.fromkeys(comment.article for comment in comments)
    with sqlite3.connect(db.path) as con:
        # The statement of Isso's `Threads.new`, in one transaction instead of one per thread.
        con.executemany(
            "INSERT INTO threads (uri, title) VALUES (?, ?)",
            [(f"/{article}", f"Article {article}") for article in articles],
        )
    thread_ids = dict(db.execute("SELECT uri, id FROM threads").fetchall())

    voters = memoryview(Bloomfilter(iterable=[FIXTURE_ADDRESS]).array)
    top_level: dict[int, int] = {}
    rows = []
    for comment in comments:
        # Isso nests one level only: a reply to a reply hangs under the top-level comment.
        parent = None if comment.parent is None else top_level[comment.parent] + 1
        top_level[comment.index] = comment.index if parent is None else parent - 1
        rows.append(
            (
                comment.index + 1,
                thread_ids[f"/{comment.article}"],
                parent,
                comment.created,
                PUBLISHED,
                FIXTURE_ADDRESS,
                comment.body,
                comment.name,
                comment.email,
                voters,
            )
        )
    with sqlite3.connect(db.path) as con:
        con.executemany(
            "INSERT INTO comments (id, tid, parent, created, modified, mode, remote_addr, text,"
            " author, email, website, voters, notification)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, ?, 0)",
            rows,
        )
    print(f"isso: {len(rows)} comments in {len(thread_ids)} threads")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
