"""A site's memory of the texts its moderators labelled, to judge near copies of them alike.

A linear model learns from a report by shifting the weights of the report's words, and those
words are shared with comments the moderator never judged: one "not spam" on a channel plug
would let every channel plug through. The memory learns nothing general. It only says how
close a new comment is to each labelled text (cosine of the sets of character 3-5-grams of
both, links, digits and punctuation normalised away), so a report moves the comments that
are copies of the reported one (another link, other punctuation, a word more or less) and
leaves the rest to the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from service.spam.features import FloatArray

# Hashed, so the memory stores no vocabulary; 2**20 buckets keep collisions between two
# comments' few hundred n-grams negligible.
_BUCKETS = 2**20
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


_VECTORIZER = HashingVectorizer(
    analyzer="char_wb",
    ngram_range=(3, 5),
    preprocessor=comparable_text,
    n_features=_BUCKETS,
    alternate_sign=False,
    binary=True,
    norm="l2",
)


def shingles(texts: Sequence[str]) -> sp.csr_matrix:
    """Returns each text's set of hashed n-grams as a unit-norm binary row."""
    return sp.csr_matrix(_VECTORIZER.transform(texts))


class LabelMemory:
    """Labelled texts as n-gram sets; a text near one of them takes that one's label."""

    def __init__(self, rows: sp.csr_matrix, labels: npt.NDArray[np.bool_]) -> None:
        self.rows = sp.csr_matrix(rows)
        self.labels = np.asarray(labels, dtype=bool)

    @classmethod
    def of(cls, texts: Sequence[str], labels: Sequence[bool]) -> LabelMemory:
        """Remembers the texts with their labels."""
        return cls(shingles(texts), np.asarray(labels, dtype=bool))

    def similarity(self, texts: Sequence[str]) -> FloatArray:
        """Returns the cosine of each text (rows) to each remembered text (columns)."""
        if not self.labels.size:
            return np.zeros((len(texts), 0))
        return np.asarray((shingles(texts) @ self.rows.T).toarray(), dtype=np.float64)

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
        """Returns the memory as plain arrays: the rows' n-gram buckets and the labels."""
        return {
            "memory_indices": self.rows.indices.astype(np.int32),
            "memory_indptr": self.rows.indptr.astype(np.int64),
            "memory_labels": self.labels,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> LabelMemory:
        """Rebuilds a memory from arrays(); the rows are binary, so their values follow."""
        indices = np.asarray(arrays["memory_indices"], dtype=np.int32)
        indptr = np.asarray(arrays["memory_indptr"], dtype=np.int64)
        sizes = np.diff(indptr)
        values = np.repeat(1.0 / np.sqrt(np.maximum(sizes, 1)), sizes)
        rows = sp.csr_matrix((values, indices, indptr), shape=(len(sizes), _BUCKETS))
        return cls(rows, np.asarray(arrays["memory_labels"], dtype=bool))
