"""The retry schedule and the rules for disabling an endpoint."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from service.webhooks.schedule import (
    DEFAULT_SCHEDULE,
    DisableReason,
    RetryPolicy,
    disable_reason,
    next_attempt_delay,
    parse_schedule,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NO_JITTER = RetryPolicy(jitter=0)


def test_default_schedule_is_the_standard_webhooks_one() -> None:
    h = 3600
    expected = (0, 5, 300, 1800, 2 * h, 5 * h, 10 * h, 14 * h, 20 * h, 24 * h)
    assert expected == DEFAULT_SCHEDULE


def test_delays_follow_the_schedule_without_jitter() -> None:
    rng = random.Random(1)
    delays = [next_attempt_delay(n, rng, NO_JITTER) for n in range(1, 11)]
    assert delays == [timedelta(seconds=s) for s in DEFAULT_SCHEDULE]


def test_first_attempt_is_immediate_even_with_jitter() -> None:
    assert next_attempt_delay(1, random.Random(7)) == timedelta(0)


def test_schedule_is_exhausted_after_the_last_attempt() -> None:
    assert next_attempt_delay(11, random.Random(1)) is None


def test_attempts_are_numbered_from_one() -> None:
    with pytest.raises(ValueError):
        next_attempt_delay(0, random.Random(1))


@pytest.mark.parametrize("attempt", range(2, 11))
def test_jitter_stays_within_ten_percent_and_varies(attempt: int) -> None:
    rng = random.Random(42)
    scheduled = DEFAULT_SCHEDULE[attempt - 1]
    seen = set()
    for _ in range(200):
        delay = next_attempt_delay(attempt, rng)
        assert delay is not None
        seconds = delay.total_seconds()
        assert scheduled * 0.9 <= seconds <= scheduled * 1.1
        seen.add(seconds)
    assert len(seen) > 100


def test_shortened_schedule_from_a_setting() -> None:
    policy = RetryPolicy(delays=parse_schedule("0, 0.01,0.02"), jitter=0)
    rng = random.Random(1)
    assert next_attempt_delay(2, rng, policy) == timedelta(seconds=0.01)
    assert next_attempt_delay(3, rng, policy) == timedelta(seconds=0.02)
    assert next_attempt_delay(4, rng, policy) is None


@pytest.mark.parametrize("setting", ["", "5,,10", "5,-1", "soon", "nan", "inf"])
def test_malformed_schedule_setting_is_refused(setting: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(setting)


@pytest.mark.parametrize("jitter", [-0.1, 1.0])
def test_jitter_out_of_range_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(jitter=jitter)


@pytest.mark.parametrize("status", [429, 503])
def test_longer_retry_after_wins_over_the_schedule(status: int) -> None:
    delay = next_attempt_delay(2, random.Random(1), NO_JITTER, status=status, retry_after=120)
    assert delay == timedelta(seconds=120)


def test_shorter_retry_after_does_not_hasten_the_schedule() -> None:
    delay = next_attempt_delay(4, random.Random(1), NO_JITTER, status=503, retry_after=10)
    assert delay == timedelta(minutes=30)


def test_retry_after_is_capped() -> None:
    delay = next_attempt_delay(2, random.Random(1), NO_JITTER, status=429, retry_after=10**9)
    assert delay == timedelta(hours=24)


@pytest.mark.parametrize("status", [500, 502, 404, None])
def test_retry_after_is_ignored_for_other_outcomes(status: int | None) -> None:
    delay = next_attempt_delay(2, random.Random(1), NO_JITTER, status=status, retry_after=600)
    assert delay == timedelta(seconds=5)


def test_retry_after_does_not_extend_an_exhausted_schedule() -> None:
    assert next_attempt_delay(11, random.Random(1), status=429, retry_after=60) is None


def test_gone_disables_at_once() -> None:
    assert disable_reason(410, None, NOW) is DisableReason.GONE


def test_failing_longer_than_the_window_disables() -> None:
    since = NOW - timedelta(days=5, seconds=1)
    assert disable_reason(500, since, NOW) is DisableReason.FAILING
    assert disable_reason(None, since, NOW) is DisableReason.FAILING


def test_failing_within_the_window_keeps_the_endpoint() -> None:
    assert disable_reason(500, NOW - timedelta(days=5), NOW) is None
    assert disable_reason(503, NOW - timedelta(hours=1), NOW) is None


def test_success_never_disables() -> None:
    assert disable_reason(204, NOW - timedelta(days=30), NOW) is None


def test_disable_window_is_configurable() -> None:
    policy = RetryPolicy(disable_after=timedelta(minutes=1))
    assert disable_reason(500, NOW - timedelta(minutes=2), NOW, policy) is DisableReason.FAILING
    assert disable_reason(500, NOW - timedelta(seconds=30), NOW, policy) is None


def test_disable_reason_is_stored_by_value() -> None:
    assert [reason.value for reason in DisableReason] == ["gone", "failing", "manual"]
