"""Spam scoring: a linear TF-IDF model trained on labelled comments, adapted per site.

Pure Python on numpy, with scikit-learn and SciPy for training and adapting only: no Flask,
no database. Models are stored as numpy archives of plain arrays (never pickle), so reading one
runs no code from the file.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from service.spam.features import TOKEN_PATTERN, FeatureSpace, FloatArray, LabelledText
from service.spam.memory import LabelMemory


class _Deferred:
    """A module, or a name in one, imported when first used rather than with this module."""

    def __init__(self, module: str, name: str | None = None) -> None:
        self._module = module
        self._name = name

    def _target(self) -> Any:
        """Imports and returns what this stands for."""
        module = importlib.import_module(self._module)
        return module if self._name is None else getattr(module, self._name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._target(), attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **kwargs)


# A worker that only scores comments never imports SciPy or scikit-learn: they are about
# 95 MB of its memory, and only training and adapt() need them.
if TYPE_CHECKING:
    import scipy.sparse as sp
    from scipy.optimize import minimize
    from scipy.special import expit
    from sklearn.linear_model import LogisticRegression
else:
    sp = _Deferred("scipy.sparse")
    minimize = _Deferred("scipy.optimize", "minimize")
    expit = _Deferred("scipy.special", "expit")
    LogisticRegression = _Deferred("sklearn.linear_model", "LogisticRegression")

# 2: marker tokens in the text blocks and a dense shape block (header "dense_weight").
FORMAT_VERSION = 2
# Site models: 2 adds the near-copy memory and drops the fitted base weight.
SITE_FORMAT_VERSION = 2
MODEL_DIR = Path(__file__).parent / "model"
BASE_MODEL_PATH = MODEL_DIR / "base.npz"
# For models trained without a threshold search; the shipped model carries its own.
DEFAULT_SPAM_THRESHOLD = 0.9
DEFAULT_UNSURE_THRESHOLD = 0.5
_BLOCKS = ("word", "char")
_WORD = re.compile(TOKEN_PATTERN)

Arrays = dict[str, Any]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


class Verdict(StrEnum):
    """What the spam check says about one comment."""

    SPAM = "spam"
    UNSURE = "unsure"
    HAM = "ham"


def sigmoid(logits: FloatArray) -> FloatArray:
    """Returns 1 / (1 + exp(-logits)) without overflow, in numpy alone."""
    return np.asarray(np.exp(-np.logaddexp(0.0, -logits)), dtype=np.float64)


def verdict_for(score: float, spam_threshold: float, unsure_threshold: float) -> Verdict:
    """Spam at or above spam_threshold, unsure at or above unsure_threshold, else ham."""
    if score >= spam_threshold:
        return Verdict.SPAM
    return Verdict.UNSURE if score >= unsure_threshold else Verdict.HAM


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """Hyperparameters of the base model, chosen by leave-one-video-out validation."""

    # Inverse L2 strength of the logistic regression.
    c: float = 10.0
    # Naive Bayes log-odds added to the regression's logit: NB ranks rare spam words better.
    nb_weight: float = 0.1
    nb_alpha: float = 0.03
    # Scale of the dense shape features (features.dense_features) next to the TF-IDF blocks,
    # whose rows have unit norm; 0 leaves them out.
    dense_weight: float = 2.0
    # Rarer terms are dropped: mostly one spammer's typos, they would double the model's size.
    min_df: int = 2


@dataclass(frozen=True, slots=True)
class AdaptConfig:
    """Hyperparameters of per-site adaptation (see adapt())."""

    # L2 strength on the site's term weights, the prior that keeps the base model in charge:
    # at n feedback texts it is prior_strength / n ** prior_decay, so one report barely moves
    # a word it shares with other spam while a site with hundreds of reports learns its own.
    # The base logit keeps weight 1 and there is no site intercept: both move every comment's
    # score, and one report against a base logit of +25 drags them most (learned under a
    # prior, that weight fell to 0.63-0.91 after that report and 20 others, and F1 with it).
    # Both values: bench/spam_adapt_tuning.py, by the rule in its docstring.
    prior_strength: float = 256.0
    prior_decay: float = 1.5
    # A comment whose memory similarity to a labelled text (memory.LabelMemory) is above
    # near_low takes that label's log-odds, wholly from near_high on. 0.8: "Subscribe to my
    # channel" (0.63 to "Check out my channel http://... subscribe!!!") is another comment,
    # "check out my channel http://... please subscribe!!" (0.94) a copy. A label's log-odds
    # are near_margin beyond the model's threshold for it: spam above the spam threshold,
    # ham below the unsure one.
    near_low: float = 0.8
    near_high: float = 0.95
    near_margin: float = 3.0
    # Only the most recent feedback is learned, which bounds a task's time and a row's size.
    max_feedback: int = 5000


class Scorer(Protocol):
    """A spam model: the base model or a site's adaptation of it."""

    spam_threshold: float
    unsure_threshold: float

    def score(self, texts: Sequence[str]) -> FloatArray: ...

    def explain(self, text: str, k: int = 5) -> list[tuple[str, float]]: ...

    def remembered(self, text: str) -> tuple[float, float]: ...


class _LinearScorer:
    """Shared scoring, verdicts and explanations for models with a logit and contributions."""

    spam_threshold: float
    unsure_threshold: float

    def logits(self, texts: Sequence[str]) -> FloatArray:
        """Returns the log-odds of spam for each text."""
        raise NotImplementedError

    def contributions(self, text: str) -> dict[str, float]:
        """Returns each word's share of the text's log-odds, the intercept left out."""
        raise NotImplementedError

    def score(self, texts: Sequence[str]) -> FloatArray:
        """Returns the probability of spam for each text."""
        return sigmoid(self.logits(texts))

    def verdicts(self, texts: Sequence[str]) -> list[Verdict]:
        """Returns spam, unsure or ham for each text under this model's thresholds."""
        scores = self.score(texts).tolist()
        return [verdict_for(s, self.spam_threshold, self.unsure_threshold) for s in scores]

    def explain(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        """Returns up to k words of the text that raised its spam log-odds most, with how much."""
        ranked = sorted(self.contributions(text).items(), key=lambda item: (-item[1], item[0]))
        return [(word, round(value, 4)) for word, value in ranked[:k] if value > 0]

    def remembered(self, text: str) -> tuple[float, float]:
        """How near the text is to ones moderators labelled (0-1), and their share of spam."""
        return 0.0, 0.5


class SpamModel(_LinearScorer):
    """A linear model on word and char TF-IDF features: logit = x . coef + intercept."""

    def __init__(
        self,
        space: FeatureSpace,
        coef: FloatArray,
        intercept: float,
        spam_threshold: float = DEFAULT_SPAM_THRESHOLD,
        unsure_threshold: float = DEFAULT_UNSURE_THRESHOLD,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.space = space
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)
        self.spam_threshold = spam_threshold
        self.unsure_threshold = unsure_threshold
        self.metadata = dict(metadata or {})
        self.fingerprint = hashlib.sha256(
            _encode_space(space, self.coef, self.intercept)
        ).hexdigest()

    def logits(self, texts: Sequence[str]) -> FloatArray:
        """Returns the log-odds of spam for each text."""
        return self.space.linear(texts, self.coef) + self.intercept

    def contributions(self, text: str) -> dict[str, float]:
        """Returns each word's share of the text's log-odds, the intercept left out."""
        return self.space.word_contributions(text, self.coef)

    def calibrated(self, slope: float, offset: float) -> SpamModel:
        """Returns the model with its logit mapped to slope * logit + offset (Platt scaling)."""
        intercept = slope * self.intercept + offset
        return SpamModel(
            self.space,
            slope * self.coef,
            intercept,
            self.spam_threshold,
            self.unsure_threshold,
            self.metadata,
        )

    def with_thresholds(self, spam: float, unsure: float, **metadata: Any) -> SpamModel:
        """Returns the same model with other verdict thresholds and more metadata."""
        return SpamModel(
            self.space, self.coef, self.intercept, spam, unsure, self.metadata | metadata
        )

    def to_bytes(self) -> bytes:
        """Serializes the model as a numpy archive of plain arrays."""
        header = {
            "format_version": FORMAT_VERSION,
            "dense_weight": self.space.dense_weight,
            "spam_threshold": self.spam_threshold,
            "unsure_threshold": self.unsure_threshold,
            "metadata": self.metadata,
        }
        return _write_npz(_space_arrays(self.space, self.coef, self.intercept, header))

    def save(self, path: Path) -> None:
        """Writes the model to a file."""
        Path(path).write_bytes(self.to_bytes())


class SiteModel(_LinearScorer):
    """A site's adaptation: the base logit plus a residual on the site's terms, and near copies.

    logit = base logit + x_site . coef; then, for a comment near
    texts the site's moderators labelled, with nearness a (0-1) the probability of spam is the
    mixture a * P(their label) + (1 - a) * P(logit), P(label) beyond the model's threshold.
    The site's own vocabulary comes from its feedback, so it learns words the base model never
    saw; the base model is shared and left untouched, and only the site part is stored.
    """

    def __init__(
        self,
        base: SpamModel,
        space: FeatureSpace,
        coef: FloatArray,
        memory: LabelMemory,
        config: AdaptConfig,
        feedback_count: int,
    ) -> None:
        self.base = base
        self.space = space
        self.coef = np.asarray(coef, dtype=np.float64)
        self.memory = memory
        self.config = config
        self.feedback_count = feedback_count
        self.spam_threshold = base.spam_threshold
        self.unsure_threshold = base.unsure_threshold

    def residual_logits(self, texts: Sequence[str]) -> FloatArray:
        """Returns the base log-odds plus the site's terms, before near copies are judged."""
        return self.base.logits(texts) + self.space.linear(texts, self.coef)

    def logits(self, texts: Sequence[str]) -> FloatArray:
        """Returns the log-odds of spam for each text."""
        nearness, spam_share = self._near(texts)
        spam, ham = (_logit(self.spam_threshold), _logit(self.unsure_threshold))
        margin = self.config.near_margin
        remembered = ham - margin + spam_share * (spam - ham + 2 * margin)
        return _mixture_logit(nearness, remembered, self.residual_logits(texts))

    def remembered(self, text: str) -> tuple[float, float]:
        """How near the text is to ones this site's moderators labelled, and their spam share."""
        nearness, spam_share = self._near([text])
        return float(nearness[0]), float(spam_share[0])

    def _near(self, texts: Sequence[str]) -> tuple[FloatArray, FloatArray]:
        """Returns each text's nearness to labelled texts and their share of spam."""
        return self.memory.evidence(texts, self.config.near_low, self.config.near_high)

    def contributions(self, text: str) -> dict[str, float]:
        """Returns each word's share of the text's log-odds, near copies left out."""
        totals = self.space.word_contributions(text, self.coef)
        for word, value in self.base.contributions(text).items():
            totals[word] = totals.get(word, 0.0) + value
        kept = 1.0 - float(self._near([text])[0][0])
        return {word: kept * value for word, value in totals.items()}

    def to_bytes(self) -> bytes:
        """Serializes the site part only, tied to its base model by fingerprint."""
        header = {
            "format_version": FORMAT_VERSION,
            "site_format": SITE_FORMAT_VERSION,
            "dense_weight": self.space.dense_weight,
            "base_fingerprint": self.base.fingerprint,
            "feedback_count": self.feedback_count,
            "config": asdict(self.config),
        }
        arrays = _space_arrays(self.space, self.coef, 0.0, header)
        return _write_npz(arrays | self.memory.arrays())

    @classmethod
    def from_bytes(cls, data: bytes, base: SpamModel) -> SiteModel:
        """Reads a site model written by to_bytes, on the base model it was adapted from."""
        space, coef, _, header = _read_space(data)
        if header.get("site_format") != SITE_FORMAT_VERSION:
            raise ValueError("site model written by an older version; adapt again")
        if header["base_fingerprint"] != base.fingerprint:
            raise ValueError("site model was adapted from another base model; adapt again")
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            memory = LabelMemory.from_arrays({name: archive[name] for name in archive.files})
        config = AdaptConfig(**header["config"])
        return cls(base, space, coef, memory, config, header["feedback_count"])


def _logit(probability: float) -> float:
    """Returns the log-odds of a probability, kept finite for thresholds of 0 or 1."""
    clipped = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(clipped / (1 - clipped))


def _log_sigmoid(logits: FloatArray) -> FloatArray:
    """Returns log(sigmoid(logits)) without overflow, in numpy alone."""
    return np.asarray(-np.logaddexp(0.0, -logits), dtype=np.float64)


def _mixture_logit(weight: FloatArray, first: FloatArray, second: FloatArray) -> FloatArray:
    """Returns the log-odds of weight * P(first) + (1 - weight) * P(second), from log-odds."""
    # Mixed as probabilities: nearness is how likely the comment is a copy of the labelled
    # ones, and a base logit of +20 must not outweigh a near-certain copy of a ham report.
    with np.errstate(divide="ignore"):
        shares = np.log(weight), np.log1p(-weight)
    spam = np.logaddexp(shares[0] + _log_sigmoid(first), shares[1] + _log_sigmoid(second))
    ham = np.logaddexp(shares[0] + _log_sigmoid(-first), shares[1] + _log_sigmoid(-second))
    return np.asarray(spam - ham, dtype=np.float64)


def _encode_space(space: FeatureSpace, coef: FloatArray, intercept: float) -> bytes:
    """Returns the bytes that identify a linear model, for its fingerprint."""
    terms = "\n\n".join("\n".join(vocabulary) for vocabulary in space.vocabularies())
    idf = b"".join(idf.tobytes() for idf in space.idfs())
    dense = repr(space.dense_weight).encode()
    return terms.encode() + idf + dense + coef.tobytes() + repr(intercept).encode()


def _space_arrays(
    space: FeatureSpace, coef: FloatArray, intercept: float, header: Mapping[str, Any]
) -> Arrays:
    """Flattens a linear model on a feature space into named arrays."""
    arrays: Arrays = {"coef": coef, "intercept": np.array(intercept)}
    arrays["header"] = np.array(json.dumps(header, sort_keys=True))
    for name, vocabulary, idf in zip(_BLOCKS, space.vocabularies(), space.idfs(), strict=True):
        arrays[f"{name}_vocab"] = np.array(vocabulary, dtype=np.str_)
        arrays[f"{name}_idf"] = idf
    return arrays


def _read_space(data: bytes) -> tuple[FeatureSpace, FloatArray, float, dict[str, Any]]:
    """Reads what _space_arrays flattened, checking the format version."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header: dict[str, Any] = json.loads(str(arrays["header"]))
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"unsupported spam model format {header.get('format_version')!r}")
    space = FeatureSpace.restore(
        [arrays[f"{name}_vocab"].tolist() for name in _BLOCKS],
        [arrays[f"{name}_idf"] for name in _BLOCKS],
        float(header["dense_weight"]),
    )
    return space, arrays["coef"].astype(np.float64), float(arrays["intercept"]), header


def _write_npz(arrays: Mapping[str, Any]) -> bytes:
    """Writes arrays as .npz with fixed timestamps, so equal models give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as handle:
                np.lib.format.write_array(handle, np.asarray(arrays[name]), allow_pickle=False)
    return buffer.getvalue()


def model_from_bytes(data: bytes) -> SpamModel:
    """Reads a model written by SpamModel.to_bytes."""
    space, coef, intercept, header = _read_space(data)
    return SpamModel(
        space,
        coef,
        intercept,
        header["spam_threshold"],
        header["unsure_threshold"],
        header["metadata"],
    )


def load_model(path: Path) -> SpamModel:
    """Reads a model file written by SpamModel.save."""
    return model_from_bytes(Path(path).read_bytes())


@functools.cache
def load_base_model() -> SpamModel:
    """Returns the shipped base model, read once per process."""
    return load_model(BASE_MODEL_PATH)


def _sorted_rows(rows: Sequence[LabelledText]) -> tuple[list[str], np.ndarray[Any, Any]]:
    """Returns texts and labels in a canonical order, so row order cannot change a model."""
    ordered = sorted(rows, key=lambda row: (row.text, row.is_spam))
    return [row.text for row in ordered], np.array([row.is_spam for row in ordered], dtype=bool)


def train(rows: Sequence[LabelledText], config: TrainingConfig | None = None) -> SpamModel:
    """Trains a model on labelled comments; the same rows in any order give the same model."""
    config = config or TrainingConfig()
    texts, labels = _sorted_rows(rows)
    if labels.all() or not labels.any():
        raise ValueError("training needs both spam and legitimate comments")
    from sklearn.naive_bayes import MultinomialNB

    space = FeatureSpace.fit(texts, min_df=config.min_df, dense_weight=config.dense_weight)
    features = space.matrix(texts)
    regression = LogisticRegression(C=config.c, solver="liblinear", max_iter=1000, random_state=0)
    regression.fit(features, labels)
    bayes = MultinomialNB(alpha=config.nb_alpha).fit(features, labels)
    # Both models are linear in the features, so their weighted log-odds sum is one linear model.
    bayes_coef = bayes.feature_log_prob_[1] - bayes.feature_log_prob_[0]
    bayes_prior = bayes.class_log_prior_[1] - bayes.class_log_prior_[0]
    coef = regression.coef_[0] + config.nb_weight * bayes_coef
    intercept = regression.intercept_[0] + config.nb_weight * bayes_prior
    return SpamModel(space, coef, float(intercept), metadata={"config": asdict(config)})


def adapt(
    base: SpamModel, feedback: Sequence[LabelledText], config: AdaptConfig | None = None
) -> SiteModel:
    """Learns a site's moderator feedback (spam / not spam reports) on top of the base model.

    The base logit enters at weight 1, never refitted: feedback only adds weights on the
    site's own terms, under a prior that weakens as feedback grows (AdaptConfig), so a few
    reports barely move a shared word; each labelled text is also remembered, to judge its
    near copies (SiteModel).
    """
    config = config or AdaptConfig()
    recent = list(feedback)[-config.max_feedback :]
    texts, labels = _sorted_rows(recent)
    if not any(_WORD.search(text) for text in texts):
        raise ValueError("feedback has no words to learn from")
    space = FeatureSpace.fit(texts)
    strength = config.prior_strength / len(texts) ** config.prior_decay
    coef = _fit_residual(space.matrix(texts), labels, base.logits(texts), strength)
    memory = LabelMemory.of(texts, labels.tolist())
    return SiteModel(base, space, coef, memory, config, len(recent))


def _fit_residual(
    design: sp.csr_matrix, labels: BoolArray, offset: FloatArray, strength: float
) -> FloatArray:
    """Fits logistic regression weights, no intercept, on top of a fixed logit offset.

    Minimises the log-loss of offset + design . weights plus strength / 2 times the squared
    weights: scikit-learn's regressions take no offset.
    """
    sign = np.where(labels, 1.0, -1.0)

    def loss(weights: FloatArray) -> tuple[float, FloatArray]:
        margin = sign * (offset + design @ weights)
        value = np.logaddexp(0.0, -margin).sum() + 0.5 * strength * weights @ weights
        gradient = design.T @ (-sign * expit(-margin)) + strength * weights
        return float(value), np.asarray(gradient, dtype=np.float64)

    def curvature(weights: FloatArray, direction: FloatArray) -> FloatArray:
        probability = expit(offset + design @ weights)
        spread = probability * (1.0 - probability) * (design @ direction)
        return np.asarray(design.T @ spread + strength * direction, dtype=np.float64)

    # Newton steps with conjugate gradients need only products with the design matrix, cheap
    # on its few non-zeros; L-BFGS-B spent seconds in its own bookkeeping on 20,000 weights.
    start = np.zeros(design.shape[1])
    result = minimize(
        loss, start, jac=True, hessp=curvature, method="Newton-CG", options={"maxiter": 200}
    )
    return np.asarray(result.x, dtype=np.float64)
