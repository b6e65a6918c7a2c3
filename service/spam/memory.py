"""A site's memory of the texts its moderators labelled, to judge near copies of them alike.

A linear model learns from a report by shifting the weights of the report's words, and those
words are shared with comments the moderator never judged: one "not spam" on a channel plug
would let every channel plug through. The memory learns nothing general. It only says how
close a new comment is to each labelled text (cosine of the sets of character 3-5-grams of
both, links reduced to their host, digits and punctuation dropped), so a report moves the
comments that are copies of the reported one (another link, other punctuation, a word more
or less) and leaves the rest to the model. numpy alone: a worker scores without SciPy.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from service.spam.features import FloatArray

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# n-grams are hashed (CRC-32, stable across processes) into this many buckets, so the memory
# stores no vocabulary; collisions between two comments' few hundred n-grams are negligible.
_BUCKETS = 2**20
_GRAMS = (3, 5)
# Only a comment's start is compared: near copies share it, and it bounds a row's size.
_COMPARED_CHARS = 2000
# A link counts by its host only: a copy may point elsewhere on the same site or to another
# site, but link-only comments to different sites must not look alike.
_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?([\w-]+(?:\.[\w-]+)*\.(?:com|net|org|ly|co|info|tk|me|us|be"
    r"|[a-z]{2,12}))(?:[/?#]\S*)?(?=\s|$)"
)
_DIGITS = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[\W_]+")


def comparable_text(text: str) -> str:
    """Returns what the memory compares: lowercase words, links as their host, no digits."""
    text = text.replace("\ufeff", "").lower()
    text = _LINK.sub(r" zzlink \1 ", text)
    text = _DIGITS.sub("0", text)
    return _NOT_WORD.sub(" ", text).strip()[:_COMPARED_CHARS]


def shingles(text: str) -> IntArray:
    """Returns the sorted hashed character n-grams of a text's words, each padded by spaces."""
    grams: set[str] = set()
    for word in comparable_text(text).split():
        padded = f" {word} "
        for n in range(_GRAMS[0], _GRAMS[1] + 1):
            grams.update(padded[i : i + n] for i in range(max(len(padded) - n + 1, 1)))
    buckets = {zlib.crc32(gram.encode()) % _BUCKETS for gram in grams}
    return np.array(sorted(buckets), dtype=np.int64)


class LabelMemory:
    """Labelled texts as n-gram sets; a text near one of them takes that one's label."""

    def __init__(self, indices: IntArray, indptr: IntArray, labels: BoolArray) -> None:
        self.indices = np.asarray(indices, dtype=np.int64)
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=bool)
        self.sizes = np.diff(self.indptr)
        # Entries sorted by bucket: a text's buckets find the rows sharing them by bisection.
        rows = np.repeat(np.arange(self.labels.size), self.sizes)
        order = np.argsort(self.indices, kind="stable")
        self._buckets, self._rows = self.indices[order], rows[order]

    @classmethod
    def of(cls, texts: Sequence[str], labels: Sequence[bool]) -> LabelMemory:
        """Remembers the texts with their labels."""
        rows = [shingles(text) for text in texts]
        indptr = np.concatenate([[0], np.cumsum([row.size for row in rows])]).astype(np.int64)
        indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        return cls(indices, indptr, np.asarray(labels, dtype=bool))

    def similarity(self, texts: Sequence[str]) -> FloatArray:
        """Returns the cosine of each text (rows) to each remembered text (columns)."""
        out = np.zeros((len(texts), self.labels.size))
        for number, text in enumerate(texts):
            buckets = shingles(text)
            if not buckets.size or not self.labels.size:
                continue
            starts = np.searchsorted(self._buckets, buckets, side="left")
            ends = np.searchsorted(self._buckets, buckets, side="right")
            hits = np.concatenate([self._rows[a:b] for a, b in zip(starts, ends, strict=True)])
            shared = np.bincount(hits, minlength=self.labels.size)
            out[number] = shared / np.sqrt(buckets.size * np.maximum(self.sizes, 1))
        return out

    def evidence(
        self, texts: Sequence[str], low: float, high: float
    ) -> tuple[FloatArray, FloatArray]:
        """Returns, per text, how near it is to labelled ones (0-1) and their share of spam.

        Nearness ramps from 0 at similarity ``low`` to 1 at ``high``; the spam share weighs
        each labelled text above ``low`` by its nearness, so conflicting reports average.
        """
        similarity = self.similarity(texts)
        nearness = np.clip((similarity - low) / (high - low), 0.0, 1.0)
        total = nearness.sum(axis=1)
        spam = nearness @ self.labels.astype(np.float64)
        share = np.divide(spam, total, out=np.full(len(texts), 0.5), where=total > 0)
        strongest = nearness.max(axis=1) if self.labels.size else np.zeros(len(texts))
        return strongest, share

    def arrays(self) -> dict[str, Any]:
        """Returns the memory as plain arrays: each row's n-gram buckets, and the labels."""
        return {
            "memory_indices": self.indices.astype(np.int32),
            "memory_indptr": self.indptr,
            "memory_labels": self.labels,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> LabelMemory:
        """Rebuilds a memory from arrays()."""
        return cls(
            np.asarray(arrays["memory_indices"], dtype=np.int64),
            np.asarray(arrays["memory_indptr"], dtype=np.int64),
            np.asarray(arrays["memory_labels"], dtype=bool),
        )
