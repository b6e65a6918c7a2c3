"""The README stays true: every setting documented, the webhook snippets the tested ones."""

from __future__ import annotations

from pathlib import Path

from service.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_block_after(text: str, marker: str) -> str:
    """The fenced block that follows ``<!-- marker`` in ``text``."""
    return text.split(f"<!-- {marker}", 1)[1].split("```", 2)[1].split("\n", 1)[1]


def test_readme_opens_with_the_two_commands() -> None:
    head = README[: README.index("## ")]
    assert "make run" in head
    assert "make test" in head


def test_every_setting_is_in_the_readme() -> None:
    missing = [name for name in DEFAULTS if f"`{name}" not in README]
    assert missing == []


def test_the_readme_webhook_snippets_are_the_ones_the_webhook_tests_run() -> None:
    docs = (ROOT / "docs" / "webhooks.md").read_text()
    for marker in ("verify-python", "verify-php"):
        assert code_block_after(README, marker) == code_block_after(docs, marker)


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
