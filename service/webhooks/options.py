"""The webhook settings of the app, read once into a typed value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from service.webhooks.schedule import RetryPolicy, parse_schedule


@dataclass(frozen=True)
class WebhookOptions:
    """What the WEBHOOK_* settings say (see service/config.py for each)."""

    allow_http: bool
    allowlist: tuple[str, ...]
    policy: RetryPolicy
    dispatch_interval: float
    redispatch_after: timedelta
    secret_grace: timedelta
    log_retention: timedelta

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookOptions:
        """The options of an app's config."""
        policy = RetryPolicy(
            delays=_schedule(config["WEBHOOK_RETRY_SCHEDULE"]),
            disable_after=timedelta(days=float(config["WEBHOOK_DISABLE_AFTER_DAYS"])),
        )
        return cls(
            allow_http=_flag(config["WEBHOOK_ALLOW_HTTP"]),
            allowlist=_string_list(config["WEBHOOK_ALLOWLIST"]),
            policy=policy,
            dispatch_interval=float(config["WEBHOOK_DISPATCH_INTERVAL"]),
            redispatch_after=timedelta(seconds=float(config["WEBHOOK_REDISPATCH_AFTER"])),
            secret_grace=timedelta(seconds=float(config["WEBHOOK_SECRET_GRACE"])),
            log_retention=timedelta(days=float(config["WEBHOOK_LOG_RETENTION_DAYS"])),
        )


def _schedule(value: str | list[float] | tuple[float, ...]) -> tuple[float, ...]:
    # An environment variable may hold a JSON list or "0,5,300"; both mean the same.
    if isinstance(value, str):
        return parse_schedule(value)
    return RetryPolicy(delays=tuple(float(delay) for delay in value)).delays


def _flag(value: object) -> bool:
    # "False" from an environment variable is not JSON, so it arrives as a non-empty string.
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _string_list(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)
