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
    SCORE = "score"  # adds its weight to the score


@dataclass(frozen=True)
class Signal:
    """One finding of one check."""

    reason: Reason
    detail: str
    effect: Effect = Effect.SCORE
    weight: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The signal as stored with the comment and shown to moderators."""
        return {
            "code": self.reason.value,
            "detail": self.detail,
            "effect": self.effect.value,
            "weight": round(self.weight, 4),
        }


@dataclass(frozen=True)
class Decision:
    """A verdict, its score in 0..1 and the signals behind it."""

    verdict: Verdict
    score: float
    signals: tuple[Signal, ...]


def decide(signals: list[Signal], spam_threshold: float, unsure_threshold: float) -> Decision:
    """The verdict the signals add up to under a site's thresholds."""
    # Rounded before comparing, so that 0.6 + 0.3 meets a threshold of 0.9 as the stored score
    # says it does (the float sum is 0.8999...).
    score = round(min(1.0, sum(s.weight for s in signals if s.effect == Effect.SCORE)), 4)
    if any(s.effect == Effect.SPAM for s in signals):
        return Decision(Verdict.SPAM, 1.0, tuple(signals))
    if score >= spam_threshold:
        verdict = Verdict.SPAM
    elif score >= unsure_threshold or any(s.effect == Effect.HOLD for s in signals):
        verdict = Verdict.UNSURE
    else:
        verdict = Verdict.HAM
    return Decision(verdict, score, tuple(signals))
