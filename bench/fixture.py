"""The comments every server is preloaded with: deterministic, so each server gets the same ones.

Random names, emails and bodies of 20 to 400 characters; 20 % of the comments are replies to an
earlier comment of the same thread. Only the standard library is used, so the Isso virtualenv can
import this module too.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

SEED = 20240607
REPLY_SHARE = 0.20
#: The single threads the read workloads and the growth sweep read, by their comment count.
SIZED_THREADS = (1, 10, 100, 1_000, 10_000)
#: The mix reads and writes over this many threads of MIX_THREAD_SIZE comments each.
MIX_THREADS = 1_000
MIX_THREAD_SIZE = 10
#: The epoch every fixture comment is dated from (2024-01-01 UTC), one second apart.
EPOCH = 1_704_067_200.0

_SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "gi", "ho", "ju", "ly",
    "pa", "qui", "ro", "se", "tu", "wa", "xe", "yo", "zu",
)  # fmt: skip
_WORDS = (
    "the", "a", "comment", "article", "thread", "reply", "agree", "disagree", "point", "good",
    "bad", "interesting", "really", "think", "because", "however", "also", "this", "that",
    "with", "without", "about", "great", "thanks", "read", "more", "why", "how", "what", "when",
    "data", "result", "author", "source", "link", "note", "update", "fix", "question", "answer",
    "idea", "maybe", "never", "always",
)  # fmt: skip


@dataclass(frozen=True)
class FixtureComment:
    """One comment to preload; `parent` is the index of an earlier comment of the same thread."""

    index: int
    article: str
    parent: int | None
    name: str
    email: str
    body: str
    created: float


def thread_key(size: int) -> str:
    """The article key of the single thread of `size` comments."""
    return f"n{size}"


def mix_key(number: int) -> str:
    """The article key of the mix thread `number`."""
    return f"mix-{number:04d}"


def random_name(rng: random.Random) -> str:
    """A made-up first and last name."""
    first = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    last = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
    return f"{first} {last}"


def random_email(rng: random.Random, name: str) -> str:
    """An address on a reserved example domain, so nothing can ever be mailed."""
    user = name.lower().replace(" ", ".")
    return f"{user}{rng.randint(1, 999)}@example.org"


def random_body(rng: random.Random) -> str:
    """Plain words, exactly 20 to 400 characters long."""
    target = rng.randint(20, 400)
    text = ""
    while len(text) < target:
        text = f"{text} {rng.choice(_WORDS)}" if text else rng.choice(_WORDS).capitalize()
    return text[:target]


def thread_comments(
    rng: random.Random, article: str, size: int, start: int
) -> list[FixtureComment]:
    """`size` comments for one article, about REPLY_SHARE of them replies."""
    comments: list[FixtureComment] = []
    for offset in range(size):
        index = start + offset
        parent = None
        if comments and rng.random() < REPLY_SHARE:
            parent = rng.choice(comments).index
        name = random_name(rng)
        comments.append(
            FixtureComment(
                index=index,
                article=article,
                parent=parent,
                name=name,
                email=random_email(rng, name),
                body=random_body(rng),
                created=EPOCH + index,
            )
        )
    return comments


def build() -> list[FixtureComment]:
    """Every fixture comment, in creation order (a parent always comes before its replies)."""
    rng = random.Random(SEED)
    comments: list[FixtureComment] = []
    for size in SIZED_THREADS:
        comments += thread_comments(rng, thread_key(size), size, len(comments))
    for number in range(MIX_THREADS):
        comments += thread_comments(rng, mix_key(number), MIX_THREAD_SIZE, len(comments))
    return comments


def write(path: Path) -> int:
    """Write the fixture as JSON lines; return the number of comments."""
    comments = build()
    with path.open("w") as out:
        for comment in comments:
            out.write(json.dumps(asdict(comment)) + "\n")
    return len(comments)


def read(path: Path) -> list[FixtureComment]:
    """Read a fixture written by `write`."""
    with path.open() as lines:
        return [FixtureComment(**json.loads(line)) for line in lines]
