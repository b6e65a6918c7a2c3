"""The demo article page in Chromium: a reader's comment from the form to the thread.

The demo site is pre-moderated here, so a reader's comment waits for a moderator after the
worker has checked it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until
from tests.widget.conftest import Service, Watch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AWAITING = "Your comment is awaiting moderation."


def only_from(origins: tuple[str, ...], urls: list[str]) -> list[str]:
    """The URLs in ``urls`` that went to any other origin."""
    return [url for url in urls if not url.startswith(tuple(o + "/" for o in origins))]


def test_demo_page_shows_the_article_and_an_empty_reply_form(
    service: Service, page: Page, watch: Watch, screenshot: Callable[..., Path]
) -> None:
    page.goto(service.url + "/")
    expect(page.locator("h1")).to_have_text("Harbour ferry returns after eight-month refit")
    expect(page.locator("[data-testid=comment-count]")).to_have_attribute(
        "data-count", re.compile(r"^\d+$")
    )
    form = page.locator("form[data-testid=comment-form]")
    expect(page.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    expect(form).to_contain_text("Your email address will not be published.")
    expect(form).to_contain_text("Required fields are marked *")
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_attribute(
        "aria-required", "true"
    )
    expect(page.get_by_role("textbox", name="Email", exact=True)).to_have_attribute(
        "aria-required", "true"
    )
    expect(page.get_by_role("textbox", name="Website", exact=True)).not_to_have_attribute(
        "aria-required", "true"
    )
    expect(page.get_by_text("Comments need JavaScript.")).to_be_hidden()
    expect(page.locator("[data-testid=honeypot]")).not_to_be_in_viewport()
    screenshot("demo-page")
    assert watch.errors == []
    assert only_from((service.url,), watch.requests) == []


def test_missing_email_is_marked_beside_its_field_and_nothing_is_sent(
    service: Service, page: Page, watch: Watch
) -> None:
    page.goto(service.url + "/")
    page.fill("[name=body]", "Good to see the ferry back.")
    page.get_by_role("textbox", name="Name", exact=True).fill("Tamsin")
    page.click("[data-testid=submit]")

    error = page.locator("#email-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Please fill in this field.")
    expect(page.locator("[name=email]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[name=email]")).to_be_focused()
    expect(page.locator("#name-error")).to_be_hidden()
    expect(page.locator("[name=body]")).to_have_value("Good to see the ferry back.")
    expect(page.locator("[role=status]")).to_have_text("Please correct the marked fields.")
    assert watch.posts == []


def test_reader_comment_waits_for_approval_then_takes_a_nested_reply(
    service: Service, page: Page, watch: Watch, screenshot: Callable[..., Path]
) -> None:
    page.goto(service.url + "/")
    page.fill("[name=body]", "The new ramp is a big help with a pushchair.")
    page.get_by_role("textbox", name="Name", exact=True).fill("Hester Quayle")
    # The browser's check lets this address through; the server's does not.
    page.get_by_role("textbox", name="Email", exact=True).fill("hester@localhost")
    page.get_by_role("textbox", name="Website", exact=True).fill("hester.example.org")
    page.check("[name=save]")
    page.click("[data-testid=submit]")

    expect(page.locator("#email-error")).to_contain_text("Enter a valid email address.")
    expect(page.locator("[name=body]")).to_have_value(
        "The new ramp is a big help with a pushchair."
    )
    expect(page.locator("[data-testid=submit]")).to_be_enabled()

    page.get_by_role("textbox", name="Email", exact=True).fill("hester@example.org")
    page.click("[data-testid=submit]")
    pending = page.locator(".vt-is-pending[data-status=pending]")
    expect(pending.locator("[data-testid=awaiting-moderation]")).to_have_text(AWAITING)
    expect(pending).to_contain_text("The new ramp is a big help with a pushchair.")
    expect(page.locator("#email-error")).to_be_hidden()
    expect(page.locator("[name=body]")).to_have_value("")
    comment_id = int(pending.get_attribute("data-comment-id") or 0)
    assert len(watch.posts) == 2, "the refused submission and this one"

    stored = wait_until(
        lambda: service.comment(comment_id).checked_at and service.comment(comment_id),
        what="the worker's check",
    )
    assert stored.status == "pending"
    assert stored.honeypot_filled is False
    assert stored.elapsed_ms is not None and stored.elapsed_ms > 0
    assert stored.author_website == "https://hester.example.org"

    page.reload()
    expect(page.locator(f"[data-comment-id='{comment_id}'][data-status=pending]")).to_contain_text(
        AWAITING
    )
    # Remembered in this browser, as the reader asked.
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value("Hester Quayle")
    expect(page.locator("[name=save]")).to_be_checked()

    service.approve("demo", comment_id)
    page.reload()
    approved = page.locator(f"[data-comment-id='{comment_id}']")
    expect(page.locator("[data-testid=comment-count]")).to_have_text("1 comment")
    expect(approved).to_contain_text("The new ramp is a big help with a pushchair.")
    expect(approved.locator("[data-testid=awaiting-moderation]")).to_have_count(0)
    expect(approved).not_to_have_class("vt-comment vt-is-pending")
    link = approved.locator(".vt-author a")
    expect(link).to_have_text("Hester Quayle")
    expect(link).to_have_attribute("href", "https://hester.example.org/")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener")
    expect(approved.locator("time.vt-time")).to_have_attribute("title", re.compile(r"20\d\d"))

    approved.locator("button.vt-reply").click()
    reply_form = approved.locator("form[data-testid=comment-form]")
    expect(reply_form).to_be_visible()
    expect(approved.get_by_role("heading", name="Leave a Reply to Hester Quayle")).to_be_visible()
    expect(reply_form.locator("[name=body]")).to_be_focused()
    expect(reply_form.locator("[name=email]")).to_have_value("hester@example.org")
    reply_form.locator("[name=body]").fill("It works for cargo bikes too.")
    reply_form.locator("[data-testid=submit]").click()

    reply = approved.locator("ol.vt-replies > li.vt-comment.vt-is-pending")
    expect(reply).to_contain_text("It works for cargo bikes too.")
    expect(reply.locator("[data-testid=awaiting-moderation]")).to_have_text(AWAITING)
    expect(page.locator("form[data-testid=comment-form]")).to_have_count(1)
    expect(approved.locator("form[data-testid=comment-form]")).to_have_count(0)
    reply_id = int(reply.get_attribute("data-comment-id") or 0)
    assert service.comment(reply_id).parent_id == comment_id
    screenshot("demo-thread", "#vetted-comments")

    assert watch.errors == [
        # The server's refusal of hester@localhost, which Chromium logs for any 4xx.
        "Failed to load resource: the server responded with a status of 422 (UNPROCESSABLE ENTITY)"
    ]
    assert only_from((service.url,), watch.requests) == []
