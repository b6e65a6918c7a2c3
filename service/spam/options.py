"""What a spam check needs from the app's settings, read once into a frozen value.

Services never import Flask: the worker (or a command) builds CheckOptions from the app's
config and passes it in; without one, the defaults of service.config apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.config import DEFAULTS


@dataclass(frozen=True)
class AkismetSettings:
    """How to reach Akismet; absent (None) when no API key is configured."""

    api_key: str
    blog_url: str
    api_url: str
    timeout: float


@dataclass(frozen=True)
class CheckOptions:
    """The app-wide settings of the spam check (the per-site ones live in Site.settings)."""

    model_path: Path | None = None
    flood_max: int = int(DEFAULTS["SPAM_FLOOD_MAX"])
    flood_window: int = int(DEFAULTS["SPAM_FLOOD_WINDOW"])
    repeat_window: int = int(DEFAULTS["SPAM_REPEAT_WINDOW"])
    repeat_min_length: int = int(DEFAULTS["SPAM_REPEAT_MIN_LENGTH"])
    akismet: AkismetSettings | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CheckOptions:
        """The options in an app's config mapping."""
        return cls(
            model_path=model_path(config),
            flood_max=int(config["SPAM_FLOOD_MAX"]),
            flood_window=int(config["SPAM_FLOOD_WINDOW"]),
            repeat_window=int(config["SPAM_REPEAT_WINDOW"]),
            repeat_min_length=int(config["SPAM_REPEAT_MIN_LENGTH"]),
            akismet=akismet_settings(config),
        )


def model_path(config: Mapping[str, Any]) -> Path | None:
    """The base model file the config names; None for the shipped model."""
    path = config.get("SPAM_MODEL_PATH")
    return Path(path) if path else None


def akismet_settings(config: Mapping[str, Any]) -> AkismetSettings | None:
    """Akismet's settings, or None without an API key: then nothing leaves the machine."""
    key = config.get("AKISMET_API_KEY")
    if not key:
        return None
    blog = config.get("AKISMET_BLOG_URL")
    if not blog:
        raise ValueError("AKISMET_BLOG_URL must be set with AKISMET_API_KEY (Akismet needs both)")
    return AkismetSettings(
        api_key=str(key),
        blog_url=str(blog),
        api_url=str(config["AKISMET_API_URL"]).rstrip("/"),
        timeout=float(config["AKISMET_TIMEOUT"]),
    )
