"""Reading labelled comment CSVs and turning comment text into TF-IDF features."""

from __future__ import annotations

import csv
import functools
import html
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

# Scoring needs only numpy: scikit-learn and SciPy (about 95 MB in a worker) are imported by
# fit() and matrix(), which training and adapt() call, never by scoring a comment.
if TYPE_CHECKING:
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

# Marker tokens for what a comment contains rather than which words: links (to YouTube or
# elsewhere), numbers, emoji, runs of punctuation, shouting and length. Spammers vary the words
# between campaigns and videos; these shapes carry over to a video the model never saw.
_URL = re.compile(
    r"(https?://|www\.)\S+|\b\S+\.(com|net|org|ly|co|info|tk|me|us|be)\b(/\S*)?", re.IGNORECASE
)
_NUMBER = re.compile(r"\d+")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_REPEATED_PUNCTUATION = re.compile(r"([!?.])\1{2,}")
_CAMPAIGN_PHRASES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"subscri",
        r"check (it )?out",
        r"my channel",
        r"channel",
        r"my (new )?video",
        r"please",
        r"follow",
        r"\bfree\b",
        r"\bwin\b",
        r"click",
        r"visit",
        r"money",
        r"like (this|my)",
        r"share",
        r"\bplz\b|\bpls\b",
    )
)
DENSE_SIZE = 9 + len(_CAMPAIGN_PHRASES)


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


# Python's csv refuses a field over 128 KiB; a comment export may hold a longer one.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))


def _parse_label(value: str, where: str) -> bool:
    """Reads a CLASS cell: 1 is spam, 0 is legitimate."""
    cleaned = value.strip().lower()
    if cleaned in {"1", "spam", "true"}:
        return True
    if cleaned in {"0", "ham", "false"}:
        return False
    raise ValueError(f"{where}: CLASS must be 0 or 1, got {value!r}")


def _read_file(path: Path, seen_ids: set[tuple[str, str]]) -> list[LabelledText]:
    """Reads one CSV, skipping rows whose COMMENT_ID the same file already gave; a file that
    is not UTF-8 CSV with CONTENT and CLASS is a ValueError naming it (and the line)."""
    try:
        # utf-8-sig drops a BOM before the header, which would otherwise rename the first column.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read_records(path, csv.DictReader(handle), seen_ids)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise ValueError(f"{path}: not readable as CSV ({exc})") from exc


def _read_records(
    path: Path, reader: csv.DictReader[str], seen_ids: set[tuple[str, str]]
) -> list[LabelledText]:
    if reader.fieldnames is None:
        raise ValueError(f"{path}: the file is empty; it needs CONTENT and CLASS columns")
    columns = {name.strip().upper(): name for name in reader.fieldnames}
    if "CONTENT" not in columns or "CLASS" not in columns:
        raise ValueError(f"{path}: needs CONTENT and CLASS columns, has {reader.fieldnames}")
    id_column = columns.get("COMMENT_ID")
    rows: list[LabelledText] = []
    line_no = reader.line_num + 1  # where the next record starts; a quoted one spans lines
    for record in reader:
        where, line_no = f"{path}:{line_no}", reader.line_num + 1
        comment_id = (record.get(id_column) or None) if id_column else None
        if comment_id is not None:
            if (path.stem, comment_id) in seen_ids:
                continue
            seen_ids.add((path.stem, comment_id))
        label = _parse_label(record[columns["CLASS"]] or "", where)
        text = normalize_text(record[columns["CONTENT"]] or "")
        rows.append(LabelledText(text, label, path.stem, comment_id))
    return rows


def load_rows(paths: Iterable[Path]) -> list[LabelledText]:
    """Reads labelled comments from CSV files with CONTENT and CLASS columns, in path order."""
    seen_ids: set[tuple[str, str]] = set()
    rows: list[LabelledText] = []
    files = [Path(path) for path in paths]
    for path in files:
        rows.extend(_read_file(path, seen_ids))
    if not rows:
        raise ValueError(f"no labelled rows in {', '.join(map(str, files))}")
    return rows


def _markers(text: str) -> list[str]:
    """Returns the marker tokens of a text: its links, numbers, emoji, shouting and length."""
    markers = []
    for match in _URL.finditer(text):
        link = match.group(0).lower()
        youtube = "youtube" in link or "youtu.be" in link
        markers += ["zzurl", "zzyturl" if youtube else "zzexturl"]
    for pattern, marker in (
        (_NUMBER, "zznum"),
        (_EMOJI, "zzemoji"),
        (_REPEATED_PUNCTUATION, "zzrep"),
    ):
        if pattern.search(text):
            markers.append(marker)
    letters = [char for char in text if char.isalpha()]
    if len(letters) > 5 and sum(char.isupper() for char in letters) / len(letters) > 0.5:
        markers.append("zzcaps")
    markers.append(f"zzlen{min(int(math.log2(len(text.split()) + 1)), 7)}")
    return markers


# The word and char blocks preprocess each text in turn: the second call is a cache hit.
@functools.lru_cache(maxsize=8)
def preprocess(text: str) -> str:
    """Lowercases, drops U+FEFF (scoring must ignore it as training did), adds marker tokens."""
    text = text.replace("\ufeff", "")
    return " ".join([text.lower(), *_markers(text)])


def dense_features(text: str) -> FloatArray:
    """Returns a text's shape features in [0, 1]: links, case, length, campaign phrases."""
    text = text.replace("\ufeff", "")
    letters = [char for char in text if char.isalpha()]
    links = len(_URL.findall(text))
    values = [
        links > 0,
        min(links, 3) / 3,
        _ratio(sum(char.isupper() for char in letters), len(letters)),
        math.log1p(len(text.split())) / 5,
        math.log1p(len(text)) / 7,
        _NUMBER.search(text) is not None,
        _EMOJI.search(text) is not None,
        _REPEATED_PUNCTUATION.search(text) is not None,
        "!" in text,
        *(pattern.search(text) is not None for pattern in _CAMPAIGN_PHRASES),
    ]
    return np.array(values, dtype=np.float64)


def _ratio(numerator: float, denominator: float) -> float:
    """Returns numerator / denominator, or 0.0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def new_vectorizers(min_df: int = 1) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Returns unfitted word and char TF-IDF vectorizers with the shared settings."""
    from sklearn.feature_extraction.text import TfidfVectorizer

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


def word_terms(text: str) -> list[str]:
    """Returns the word block's terms of a text, as the word vectorizer's analyzer does."""
    tokens = _TOKEN.findall(preprocess(text))
    terms = list(tokens)
    for n in range(max(WORD_NGRAMS[0], 2), WORD_NGRAMS[1] + 1):
        terms += [" ".join(tokens[start : start + n]) for start in range(len(tokens) - n + 1)]
    return terms


def char_terms(text: str) -> list[str]:
    """Returns the char block's terms of a text, as the char_wb vectorizer's analyzer does."""
    grams: list[str] = []
    for word in preprocess(text).split():
        grams += _char_wb_grams(word)
    return grams


# One analyzer per block, in block order: the same terms the fitted vectorizers would draw.
_ANALYZERS: tuple[Callable[[str], list[str]], ...] = (word_terms, char_terms)


@dataclass(frozen=True, slots=True)
class _Block:
    """One fitted vectorizer's pieces, placed at an offset in the stacked feature vector."""

    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: FloatArray
    offset: int


class FeatureSpace:
    """Word and char TF-IDF blocks side by side, then dense_weight x dense_features() if > 0."""

    def __init__(
        self,
        vocabularies: Sequence[Sequence[str]],
        idfs: Sequence[FloatArray],
        dense_weight: float = 0.0,
    ) -> None:
        self.dense_weight = float(dense_weight)
        self._blocks: list[_Block] = []
        self._vectorizers: tuple[TfidfVectorizer, ...] | None = None
        offset = 0
        for analyzer, terms, idf in zip(_ANALYZERS, vocabularies, idfs, strict=True):
            vocabulary = {str(term): column for column, term in enumerate(terms)}
            self._blocks.append(
                _Block(analyzer, vocabulary, np.asarray(idf, dtype=np.float64), offset)
            )
            offset += len(vocabulary)
        self.dense_offset = offset
        self.size = offset + (DENSE_SIZE if self.dense_weight > 0 else 0)

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 1, dense_weight: float = 0.0) -> FeatureSpace:
        """Fits the vectorizers on the texts."""
        vectorizers = new_vectorizers(min_df)
        vocabularies: list[list[str]] = []
        for vectorizer in vectorizers:
            vectorizer.fit(texts)
            columns = vectorizer.vocabulary_
            vocabularies.append(sorted(columns, key=columns.__getitem__))
        return cls(vocabularies, [v.idf_ for v in vectorizers], dense_weight)

    @classmethod
    def restore(
        cls,
        vocabularies: Sequence[Sequence[str]],
        idfs: Sequence[FloatArray],
        dense_weight: float = 0.0,
    ) -> FeatureSpace:
        """Rebuilds a fitted space from each block's terms (in column order) and idf weights."""
        return cls(vocabularies, idfs, dense_weight)

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
        import scipy.sparse as sp

        blocks = [v.transform(texts) for v in self._fitted_vectorizers()]
        if self.dense_weight > 0:
            dense = np.array([dense_features(text) for text in texts]).reshape(-1, DENSE_SIZE)
            blocks.append(sp.csr_matrix(self.dense_weight * dense))
        return sp.hstack(blocks, format="csr")

    def _fitted_vectorizers(self) -> tuple[TfidfVectorizer, ...]:
        """Returns scikit-learn vectorizers set to this space's terms and idf, built once."""
        if self._vectorizers is None:
            vectorizers = new_vectorizers()
            for vectorizer, block in zip(vectorizers, self._blocks, strict=True):
                vectorizer.vocabulary_ = block.vocabulary
                vectorizer.idf_ = block.idf
            self._vectorizers = vectorizers
        return self._vectorizers

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
        if self.dense_weight > 0:
            dense = self.dense_weight * dense_features(text)
            index = np.flatnonzero(dense)
            columns.append(index.astype(np.int64) + self.dense_offset)
            values.append(dense[index])
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
        # Features of the whole text (markers, dense shape features) are shared by all words.
        columns, values = self.weights(text)
        by_column = dict(zip(columns.tolist(), (values * coef[columns]).tolist(), strict=True))
        originals = text.split()
        totals: dict[str, float] = defaultdict(float)
        placed = 0.0
        for block, owners in zip(self._blocks, self._owners(originals), strict=True):
            for term, indexes in owners.items():
                column = block.vocabulary.get(term)
                if column is None or column + block.offset not in by_column:
                    continue
                share = by_column[column + block.offset] / len(indexes)
                placed += by_column[column + block.offset]
                for index in indexes:
                    totals[originals[index].lower()] += share
        for word in originals:
            totals[word.lower()] += (sum(by_column.values()) - placed) / len(originals)
        display = {word.lower(): word for word in reversed(originals)}
        return {display[key]: value for key, value in totals.items()}

    def _owners(self, words: Sequence[str]) -> list[dict[str, list[int]]]:
        """Maps each block's terms to the indexes of the words they are drawn from."""
        plain = [word.replace("\ufeff", "").lower() for word in words]
        tokens = [(t, i) for i, word in enumerate(plain) for t in _TOKEN.findall(word)]
        word_owners: dict[str, list[int]] = defaultdict(list)
        for n in range(WORD_NGRAMS[0], WORD_NGRAMS[1] + 1):
            for start in range(len(tokens) - n + 1):
                window = tokens[start : start + n]
                word_owners[" ".join(token for token, _ in window)].extend(i for _, i in window)
        char_owners: dict[str, list[int]] = defaultdict(list)
        for index, word in enumerate(plain):
            for gram in _char_wb_grams(word):
                char_owners[gram].append(index)
        return [word_owners, char_owners]


def _char_wb_grams(word: str) -> list[str]:
    """Returns the char_wb n-grams scikit-learn draws from one lowercased word."""
    # A padded word shorter than n gives no n-grams; as long as n, itself once.
    padded = f" {word} "
    size = len(padded)
    return [
        padded[start : start + n]
        for n in range(CHAR_NGRAMS[0], min(CHAR_NGRAMS[1], size) + 1)
        for start in range(size - n + 1)
    ]
