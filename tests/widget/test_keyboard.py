"""The widget with the keyboard alone: tab order, sending, mistakes, replying and cancelling."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.widget.conftest import Service, host_page, snippet

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The focused element, looked up through shadow roots: its name, test id or tag.
FOCUSED = """() => {
  let node = document.activeElement;
  while (node && node.shadowRoot && node.shadowRoot.activeElement) {
    node = node.shadowRoot.activeElement;
  }
  return node && (node.getAttribute('name') || node.dataset.testid || node.localName);
}"""


def focused(page: Page) -> str | None:
    """What has the keyboard focus, inside the widget or out."""
    result: str | None = page.evaluate(FOCUSED)
    return result


def tab(page: Page) -> str | None:
    """Presses Tab and says where the focus went."""
    page.keyboard.press("Tab")
    return focused(page)


def test_keyboard_alone_writes_a_comment_and_is_taken_to_the_first_mistake(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "keys"))))
    expect(page.locator("[data-testid=comment-count]")).to_have_text("No comments yet")

    assert tab(page) == "sort"
    assert tab(page) == "body"
    page.keyboard.type("Written without a mouse.")
    assert tab(page) == "name"
    page.keyboard.type("Keyboard Kit")
    assert tab(page) == "email"  # left empty on purpose
    assert tab(page) == "website"
    assert tab(page) == "save", "the honeypot is never reached with Tab"
    page.keyboard.press("Space")
    expect(page.locator("[name=save]")).to_be_checked()
    assert tab(page) == "submit"
    page.keyboard.press("Enter")

    expect(page.locator("#email-error")).to_have_text("Please fill in this field.")
    assert focused(page) == "email"
    expect(page.locator("[name=email]")).to_have_attribute(
        "aria-describedby", "email-error email-notes"
    )
    page.keyboard.type("kit@example.org")
    page.keyboard.press("Enter")  # Enter in a field sends the form

    mine = page.locator(".vt-is-pending")
    expect(mine).to_contain_text("Written without a mouse.")
    expect(page.locator("[role=status]")).to_have_text(
        "Thank you! Your comment is awaiting moderation."
    )
    expect(page.locator("[role=status]")).to_have_attribute("aria-live", "polite")
    assert focused(page) == "article", "focus moves to the new comment"
    expect(page.locator("[name=email]")).not_to_have_attribute("aria-invalid", "true")


def test_keyboard_reply_opens_under_the_comment_and_escape_returns_focus(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    parent = service.seed_comment(site, "keys", "Reply to me with keys.", name="Olwen")
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "keys"))))
    comment = page.locator(f"[data-comment-id='{parent}']")
    expect(comment).to_be_visible()

    assert tab(page) == "sort"
    assert tab(page) == "reply"
    expect(comment.locator("button.vt-reply")).to_have_attribute("aria-label", "Reply to Olwen")
    page.keyboard.press("Enter")
    expect(comment.locator("form[data-testid=comment-form]")).to_be_visible()
    assert focused(page) == "body"

    page.keyboard.press("Escape")
    expect(comment.locator("form[data-testid=comment-form]")).to_have_count(0)
    assert focused(page) == "reply"

    page.keyboard.press("Space")
    assert focused(page) == "body"
    page.keyboard.type("Answered from the keyboard.")
    for field, text in (("name", "Kit"), ("email", "kit@example.org")):
        assert tab(page) == field
        page.keyboard.type(text)
    for expected in ("website", "save", "submit"):
        assert tab(page) == expected
    page.keyboard.press("Space")

    reply = comment.locator("ol.vt-replies > li.vt-is-pending")
    expect(reply).to_contain_text("Answered from the keyboard.")
