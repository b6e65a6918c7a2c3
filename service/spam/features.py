"""Reading labelled comment CSVs and turning comment text into TF-IDF features."""

from __future__ import annotations

import csv
import html
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Word uni/bigrams catch campaign phrases ("check out my channel"); char n-grams inside word
# boundaries survive the misspellings and glued URLs spammers use to dodge word filters.
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
TOKEN_PATTERN = r"(?u)\b\w+\b"

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# A link's target is the spammer's payload, so it stays as text when the markup goes.
_ANCHOR = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']*)["'][^>]*>""", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_TOKEN = re.compile(TOKEN_PATTERN)


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One comment with its label and the file (video, site) it came from."""

    text: str
    is_spam: bool
    source: str = ""
    comment_id: str | None = None


def normalize_text(raw: str) -> str:
    """Returns the plain text a reader sees: no BOMs, markup or entities."""
    # U+FEFF trails most ham but little spam in the YouTube files: a label leak if kept.
    text = raw.replace("\ufeff", "")
    text = _BREAK.sub("\n", text)
    text = _ANCHOR.sub(r" \1 ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text).replace("\ufeff", "").replace("\xa0", " ")
    return _SPACE.sub(" ", text).strip()


def _parse_label(value: str, where: str) -> bool:
    """Reads a CLASS cell: 1 is spam, 0 is legitimate."""
    cleaned = value.strip().lower()
    if cleaned in {"1", "spam", "true"}:
        return True
    if cleaned in {"0", "ham", "false"}:
        return False
    raise ValueError(f"{where}: CLASS must be 0 or 1, got {value!r}")


def _read_file(path: Path, seen_ids: set[tuple[str, str]]) -> list[LabelledText]:
    """Reads one CSV, skipping rows whose COMMENT_ID the same file already gave."""
    rows: list[LabelledText] = []
    # utf-8-sig drops a BOM before the header, which would otherwise rename the first column.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = {name.strip().upper(): name for name in reader.fieldnames or []}
        if "CONTENT" not in columns or "CLASS" not in columns:
            raise ValueError(f"{path}: needs CONTENT and CLASS columns, has {reader.fieldnames}")
        id_column = columns.get("COMMENT_ID")
        for line_no, record in enumerate(reader, start=2):
            comment_id = (record.get(id_column) or None) if id_column else None
            if comment_id is not None:
                if (path.stem, comment_id) in seen_ids:
                    continue
                seen_ids.add((path.stem, comment_id))
            label = _parse_label(record[columns["CLASS"]] or "", f"{path}:{line_no}")
            text = normalize_text(record[columns["CONTENT"]] or "")
            rows.append(LabelledText(text, label, path.stem, comment_id))
    return rows


def load_rows(paths: Iterable[Path]) -> list[LabelledText]:
    """Reads labelled comments from CSV files with CONTENT and CLASS columns, in path order."""
    seen_ids: set[tuple[str, str]] = set()
    rows: list[LabelledText] = []
    for path in paths:
        rows.extend(_read_file(Path(path), seen_ids))
    return rows


def preprocess(text: str) -> str:
    """Lowercases and drops U+FEFF, which scoring must ignore as training did."""
    return text.replace("\ufeff", "").lower()


def new_vectorizers(min_df: int = 1) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Returns unfitted word and char TF-IDF vectorizers with the shared settings."""
    words = TfidfVectorizer(
        analyzer="word",
        preprocessor=preprocess,
        ngram_range=WORD_NGRAMS,
        token_pattern=TOKEN_PATTERN,
        sublinear_tf=True,
        min_df=min_df,
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        preprocessor=preprocess,
        ngram_range=CHAR_NGRAMS,
        sublinear_tf=True,
        min_df=min_df,
    )
    return words, chars


@dataclass(frozen=True, slots=True)
class _Block:
    """One fitted vectorizer's pieces, placed at an offset in the stacked feature vector."""

    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: FloatArray
    offset: int


class FeatureSpace:
    """Word and char TF-IDF vectorizers stacked side by side into one feature vector."""

    def __init__(self, vectorizers: Sequence[TfidfVectorizer]) -> None:
        self.vectorizers = tuple(vectorizers)
        self._blocks: list[_Block] = []
        offset = 0
        for vectorizer in self.vectorizers:
            vocabulary = {str(term): int(column) for term, column in vectorizer.vocabulary_.items()}
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            self._blocks.append(_Block(vectorizer.build_analyzer(), vocabulary, idf, offset))
            offset += len(vocabulary)
        self.size = offset

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 1) -> FeatureSpace:
        """Fits the vectorizers on the texts."""
        vectorizers = new_vectorizers(min_df)
        for vectorizer in vectorizers:
            vectorizer.fit(texts)
        return cls(vectorizers)

    @classmethod
    def restore(
        cls, vocabularies: Sequence[Sequence[str]], idfs: Sequence[FloatArray]
    ) -> FeatureSpace:
        """Rebuilds a fitted space from each block's terms (in column order) and idf weights."""
        vectorizers = new_vectorizers()
        for vectorizer, vocabulary, idf in zip(vectorizers, vocabularies, idfs, strict=True):
            vectorizer.vocabulary_ = {term: column for column, term in enumerate(vocabulary)}
            vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
        return cls(vectorizers)

    def vocabularies(self) -> list[list[str]]:
        """Returns each block's terms in column order."""
        return [
            sorted(block.vocabulary, key=block.vocabulary.__getitem__) for block in self._blocks
        ]

    def idfs(self) -> list[FloatArray]:
        """Returns each block's idf weights in column order."""
        return [block.idf for block in self._blocks]

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Returns the feature matrix of many texts, computed by scikit-learn."""
        return sp.hstack([v.transform(texts) for v in self.vectorizers], format="csr")

    def weights(self, text: str) -> tuple[IntArray, FloatArray]:
        """Returns one text's non-zero feature columns and values, equal to matrix()'s row."""
        # scikit-learn validates its input on every transform call, which costs ~1 ms: four
        # times the work itself when the worker scores one comment at a time.
        columns: list[IntArray] = []
        values: list[FloatArray] = []
        for block in self._blocks:
            counts = Counter(block.analyzer(text))
            found = [(block.vocabulary.get(term, -1), n) for term, n in counts.items()]
            index = np.array([column for column, _ in found if column >= 0], dtype=np.int64)
            if not index.size:
                continue
            tf = np.array([n for column, n in found if column >= 0], dtype=np.float64)
            tf_idf = (1.0 + np.log(tf)) * block.idf[index]
            columns.append(index + block.offset)
            values.append(tf_idf / np.sqrt(tf_idf @ tf_idf))
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return np.concatenate(columns), np.concatenate(values)

    def linear(self, texts: Sequence[str], coef: FloatArray) -> FloatArray:
        """Returns x . coef for each text."""
        out = np.empty(len(texts), dtype=np.float64)
        for row, text in enumerate(texts):
            columns, values = self.weights(text)
            out[row] = values @ coef[columns]
        return out

    def word_contributions(self, text: str, coef: FloatArray) -> dict[str, float]:
        """Splits x . coef among the text's whitespace-separated words."""
        # Each feature's weight is shared equally by the words it was drawn from, so the shares
        # add up to x . coef and a moderator sees whole words rather than n-gram fragments.
        columns, values = self.weights(text)
        by_column = dict(zip(columns.tolist(), (values * coef[columns]).tolist(), strict=True))
        originals = text.split()
        totals: dict[str, float] = defaultdict(float)
        for block, owners in zip(self._blocks, self._owners(originals), strict=True):
            for term, indexes in owners.items():
                column = block.vocabulary.get(term)
                if column is None or column + block.offset not in by_column:
                    continue
                share = by_column[column + block.offset] / len(indexes)
                for index in indexes:
                    totals[originals[index].lower()] += share
        display = {word.lower(): word for word in reversed(originals)}
        return {display[key]: value for key, value in totals.items()}

    def _owners(self, words: Sequence[str]) -> list[dict[str, list[int]]]:
        """Maps each block's terms to the indexes of the words they are drawn from."""
        tokens = [(t, i) for i, word in enumerate(words) for t in _TOKEN.findall(preprocess(word))]
        word_owners: dict[str, list[int]] = defaultdict(list)
        for n in range(WORD_NGRAMS[0], WORD_NGRAMS[1] + 1):
            for start in range(len(tokens) - n + 1):
                window = tokens[start : start + n]
                word_owners[" ".join(token for token, _ in window)].extend(i for _, i in window)
        char_owners: dict[str, list[int]] = defaultdict(list)
        for index, word in enumerate(words):
            for gram in self._blocks[1].analyzer(word):
                char_owners[gram].append(index)
        return [word_owners, char_owners]
