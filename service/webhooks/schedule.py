"""When to try a webhook again, and when to give up on an endpoint.

The schedule is the example of the Standard Webhooks specification, which Svix uses: ten
attempts over about three days, each delay jittered by ~10 % so that a receiver that fell over
under load is not hit again by every sender in the same second. A failed attempt is followed by
``disable_reason`` (410 Gone, or failing too long) and, if the endpoint stays enabled, by
``next_attempt_delay`` for the next attempt number.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from http import HTTPStatus

# Delay before each attempt, in seconds: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
# 20 h and 24 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (
    0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600,
)  # fmt: skip
# Statuses whose Retry-After the specification asks senders to respect.
RETRY_AFTER_STATUSES = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE})


class DisableReason(StrEnum):
    """Why an endpoint stops receiving webhooks."""

    GONE = "gone"
    FAILING = "failing"
    MANUAL = "manual"  # an admin switched it off


@dataclass(frozen=True)
class RetryPolicy:
    """The retry schedule and the limits around it; tests shorten ``delays``."""

    delays: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.1
    # A receiver asking for more than the schedule's longest wait gets that wait, not a week.
    max_retry_after: float = 24 * 3600
    # Svix's rule: an endpoint whose every attempt has failed for five days is switched off.
    disable_after: timedelta = timedelta(days=5)

    def __post_init__(self) -> None:
        if not self.delays or not all(0 <= delay < math.inf for delay in self.delays):
            raise ValueError("a retry schedule is one or more delays of zero seconds or more")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction from 0 to below 1")
        if self.max_retry_after < 0 or self.disable_after <= timedelta(0):
            raise ValueError("max_retry_after and disable_after must be positive")


DEFAULT_POLICY = RetryPolicy()


def parse_schedule(value: str) -> tuple[float, ...]:
    """The delays of a comma-separated setting such as ``"0,5,300"``."""
    try:
        delays = tuple(float(part) for part in value.split(","))
    except ValueError as exc:
        raise ValueError(f"a retry schedule is comma-separated seconds, not {value!r}") from exc
    return RetryPolicy(delays=delays).delays


def next_attempt_delay(
    attempt_number: int,
    rng: random.Random,
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    status: int | None = None,
    retry_after: float | None = None,
) -> timedelta | None:
    """The wait before attempt ``attempt_number`` (1 is the first), None once past the schedule."""
    # ``status`` and ``retry_after`` are those of the attempt before, which may ask for a pause.
    if attempt_number < 1:
        raise ValueError("attempts are numbered from 1")
    if attempt_number > len(policy.delays):
        return None
    scheduled = policy.delays[attempt_number - 1]
    seconds = scheduled * (1 + rng.uniform(-policy.jitter, policy.jitter))
    if status in RETRY_AFTER_STATUSES and retry_after is not None:
        seconds = max(seconds, min(retry_after, policy.max_retry_after))
    return timedelta(seconds=seconds)


def disable_reason(
    status: int | None,
    failing_since: datetime | None,
    now: datetime,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> DisableReason | None:
    """Why the endpoint must be disabled after an attempt that ended with ``status``, or None."""
    # ``status`` is None when no response came; ``failing_since`` is when the endpoint's current
    # run of failed attempts began, None while its last attempt succeeded.
    if status is not None and HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
        return None
    # 410 is the receiver saying it wants no more webhooks from us (the specification's rule).
    if status == HTTPStatus.GONE:
        return DisableReason.GONE
    if failing_since is not None and now - failing_since > policy.disable_after:
        return DisableReason.FAILING
    return None
