"""The vocabulary of a spam check: reason codes, signals and the verdict they add up to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from service.comments.models import Verdict


class Reason(StrEnum):
    """Why a check thinks what it thinks (after Coral Talk's codes)."""

    BLOCKED_EMAIL = "BLOCKED_EMAIL"
    BLOCKED_IP = "BLOCKED_IP"
    BANNED_WORD = "BANNED_WORD"
    SUSPECT_WORD = "SUSPECT_WORD"
    LINKS = "LINKS"
    HONEYPOT = "HONEYPOT"
    TOO_FAST = "TOO_FAST"
    REPEAT_POST = "REPEAT_POST"
    FLOOD = "FLOOD"
    CLASSIFIER = "CLASSIFIER"
    AKISMET = "AKISMET"
    NEW_COMMENTER = "NEW_COMMENTER"


class Effect(StrEnum):
    """What a signal does to the verdict on its own."""

    SPAM = "spam"  # decisive: the comment is spam
    HOLD = "hold"  # the comment waits for a moderator at least
    SCORE = "score"  # its weight counts in the combined score (see combined_score)
    INFO = "info"  # shown to moderators, no effect on the verdict


@dataclass(frozen=True)
class Signal:
    """One finding of one check."""

    reason: Reason
    detail: str
    effect: Effect = Effect.SCORE
    weight: float = 0.0
    # The classifier's words that pushed its score up most, with their log-odds: (word, value).
    terms: tuple[tuple[str, float], ...] | None = None

    def as_json(self) -> dict[str, Any]:
        """The signal as stored with the comment and shown to moderators."""
        doc: dict[str, Any] = {
            "code": self.reason.value,
            "detail": self.detail,
            "effect": self.effect.value,
            "weight": round(self.weight, 4),
        }
        if self.terms is not None:
            doc["terms"] = [{"term": term, "weight": round(w, 4)} for term, w in self.terms]
        return doc


@dataclass(frozen=True)
class Decision:
    """A verdict, its score in 0..1 and the signals behind it."""

    verdict: Verdict
    score: float
    signals: tuple[Signal, ...]


def combined_score(signals: list[Signal]) -> float:
    """The chance that at least one scoring signal is right: 1 - product of (1 - weight).

    Each weight is read as the chance that its finding alone makes the comment spam (the
    classifier's is its probability), and the findings as independent: a noisy-or, so the
    score stays in 0..1 and a second finding adds less the surer the first one is.
    """
    clean = 1.0
    for signal in signals:
        if signal.effect == Effect.SCORE:
            clean *= 1.0 - min(max(signal.weight, 0.0), 1.0)
    # Rounded before comparing, so that the verdict agrees with the stored score.
    return round(1.0 - clean, 4)


def decide(signals: list[Signal], spam_threshold: float, unsure_threshold: float) -> Decision:
    """The verdict the signals add up to under a site's thresholds.

    A decisive signal (a block, a banned word, the honeypot) is spam whatever the score; a
    hold signal is unsure at least; otherwise the combined score meets the thresholds.
    """
    if any(s.effect == Effect.SPAM for s in signals):
        return Decision(Verdict.SPAM, 1.0, tuple(signals))
    score = combined_score(signals)
    if score >= spam_threshold:
        verdict = Verdict.SPAM
    elif score >= unsure_threshold or any(s.effect == Effect.HOLD for s in signals):
        verdict = Verdict.UNSURE
    else:
        verdict = Verdict.HAM
    return Decision(verdict, score, tuple(signals))
