"""The widget embedded in host pages: another origin under a strict CSP, several threads on a
page, languages, closed articles, and the failures a reader can meet."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import wait_until
from tests.widget.conftest import Service, Watch, host_page, snippet

pytestmark = [pytest.mark.browser, pytest.mark.slow]

POSTED = "Glad the ferry is back. The new ramp makes a real difference with a pushchair."
ACCENT = "rgb(11, 92, 173)"  # the widget's default --vetted-accent, #0b5cad
# The styles a careless host page might set; none of them may reach into the widget.
HOSTILE_CSS = """
body { color: rgb(0, 128, 0); letter-spacing: 6px; text-transform: uppercase; line-height: 4; }
button { background: rgb(255, 0, 0) !important; border-radius: 0 !important; }
label, p, li, h2, h3 { color: rgb(0, 128, 0) !important; display: inline !important; }
"""


def write_comment(
    page: Page, body: str, name: str = "Nell", email: str = "nell@example.org"
) -> None:
    """Fills the form as a reader would (the first form on the page) and sends it."""
    page.locator("[name=body]").first.fill(body)
    page.get_by_role("textbox", name="Name", exact=True).first.fill(name)
    page.get_by_role("textbox", name="Email", exact=True).first.fill(email)
    page.locator("[data-testid=submit]").first.click()


def test_widget_works_on_another_origins_page_under_a_strict_csp(
    service: Service, page: Page, watch: Watch
) -> None:
    # A site that holds only what its model is fairly unsure about: this test is about the page
    # and the wiring to the worker, not the model's calibration.
    site = service.make_site(allowed_origins=[service.host_url], unsure_threshold=0.5)
    service.seed_comment(site, "csp", "Read from another origin.")
    css = service.host_url + service.host_pages.add(HOSTILE_CSS, mimetype="text/css")
    policy = (
        f"default-src 'self'; script-src {service.url}; connect-src {service.url}; style-src 'self'"
    )
    html = host_page(
        service.url + "/widget.js",
        snippet(site, "csp"),
        '<button class="vt-button" id="page-button">Page</button>',
        head=f'<link rel="stylesheet" href="{css}">',
    )
    page.goto(service.foreign_page_url(html, {"Content-Security-Policy": policy}))

    expect(page.locator("[data-testid=comment-count]")).to_have_text("1 comment")
    submit = page.locator("[data-testid=submit]")
    # The widget's own styles apply (a constructed sheet, which style-src does not block) ...
    expect(submit).to_have_css("background-color", ACCENT)
    expect(submit).to_have_css("border-radius", "6px")
    # ... and the page's styles do not reach in, inherited or not.
    label = page.locator("label[for=vt-name]")
    expect(label).to_have_css("display", "block")
    expect(label).not_to_have_css("color", "rgb(0, 128, 0)")
    expect(label).to_have_css("text-transform", "none")
    expect(label).to_have_css("letter-spacing", "normal")
    # Nor do the widget's styles leak out onto the page's own elements.
    expect(page.locator("#page-button")).to_have_css("background-color", "rgb(255, 0, 0)")
    expect(page.locator("#page-button")).not_to_have_css("font-weight", "600")

    # A reader takes a while to read and write; a form sent within 3 s counts against it.
    page.wait_for_timeout(3_100)
    write_comment(page, POSTED)
    mine = page.locator(".vt-is-pending[data-status=pending]")
    expect(mine).to_contain_text(POSTED)
    comment_id = int(mine.get_attribute("data-comment-id") or 0)
    # The site is post-moderated: the real worker checks the comment and publishes it.
    wait_until(lambda: service.comment(comment_id).status == "approved", what="publication")
    page.reload()
    published = page.locator(f"[data-comment-id='{comment_id}']")
    expect(published).to_contain_text(POSTED)
    expect(published).not_to_have_attribute("data-status", "pending")
    expect(page.locator("[data-testid=comment-count]")).to_have_text("2 comments")

    assert watch.errors == [], "no CSP violation, no script error"
    origins = (service.url + "/", service.host_url + "/")
    assert [url for url in watch.requests if not url.startswith(origins)] == []
    assert not [
        url
        for url in watch.requests
        if url.startswith(service.url + "/") and not re.search(r"/widget\.js$|/api/v1/sites/", url)
    ]


def test_site_without_allowed_origins_is_read_but_not_written_from_another_origin(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    service.seed_comment(site, "open-read", "Anyone may read this.")
    page.goto(
        service.foreign_page_url(host_page(service.url + "/widget.js", snippet(site, "open-read")))
    )
    expect(page.locator("[data-testid=comment-count]")).to_have_text("1 comment")

    write_comment(page, "Sent from a page the site never allowed.")
    # The server's refusal, readable (the browser reported a network error, and the reader was
    # told to check their connection), and for the developer a hint in the console.
    expect(page.locator("[role=status]")).to_have_text("Comments cannot be posted from this page.")
    expect(page.locator("[role=status]")).to_have_class(re.compile(r"\bvt-bad\b"))
    expect(page.locator("[name=body]")).to_have_value("Sent from a page the site never allowed.")
    expect(page.locator(".vt-is-pending")).to_have_count(0)
    assert service.stored_bodies(site) == ["Anyone may read this."]


def test_several_widgets_on_one_page_keep_their_own_threads(
    service: Service, page: Page, watch: Watch
) -> None:
    site = service.make_site()
    service.seed_comment(site, "live-morning", "Morning update is clear.")
    html = host_page(
        service.url + "/widget.js",
        '<section id="morning">' + snippet(site, "live-morning") + "</section>",
        '<section id="evening">' + snippet(site, "live-evening", theme="dark") + "</section>",
    )
    page.goto(service.page_url(html))
    morning, evening = page.locator("#morning"), page.locator("#evening")
    expect(morning.locator("[data-testid=comment-count]")).to_have_text("1 comment")
    expect(evening.locator("[data-testid=comment-count]")).to_have_text("No comments yet")

    evening.locator("[name=body]").fill("Evening question: is the 19.10 running?")
    evening.get_by_role("textbox", name="Name", exact=True).fill("Wyn")
    evening.get_by_role("textbox", name="Email", exact=True).fill("wyn@example.org")
    evening.locator("[data-testid=submit]").click()

    expect(evening.locator(".vt-is-pending")).to_contain_text("Evening question")
    expect(morning.locator(".vt-is-pending")).to_have_count(0)
    expect(morning.locator("[data-testid=comment]")).to_have_count(1)
    expect(evening.locator("[data-testid=vetted]")).to_have_css(
        "background-color", "rgb(23, 25, 28)"
    )
    page.evaluate("Vetted.mountAll()")
    expect(page.locator("[data-testid=vetted]")).to_have_count(2)
    assert watch.errors == []


def test_page_language_picks_german_and_data_lang_overrides_it(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    service.seed_comment(site, "faehre", "Schön, dass sie wieder fährt.")
    html = host_page(
        service.url + "/widget.js",
        '<div id="de">' + snippet(site, "faehre") + "</div>",
        '<div id="en">' + snippet(site, "faehre", lang="en") + "</div>",
        lang="de",
    )
    page.goto(service.page_url(html))
    german, english = page.locator("#de"), page.locator("#en")
    expect(german.locator("[data-testid=comment-count]")).to_have_text("1 Kommentar")
    expect(german.get_by_role("heading", name="Schreibe einen Kommentar")).to_be_visible()
    expect(german.get_by_role("textbox", name="E-Mail", exact=True)).to_be_visible()
    expect(german.locator("form")).to_contain_text(
        "Deine E-Mail-Adresse wird nicht veröffentlicht."
    )
    expect(german.locator("time.vt-time")).to_have_text("jetzt")
    expect(english.locator("[data-testid=comment-count]")).to_have_text("1 comment")

    german.locator("[data-testid=submit]").click()
    expect(german.locator("#body-error")).to_have_text("Bitte fülle dieses Feld aus.")
    expect(german.locator("[role=status]")).to_have_text("Bitte korrigiere die markierten Felder.")
    expect(german.locator("[data-testid=submit]")).to_have_text("Kommentar abschicken")
    # What only the server can judge comes back in German too (it was English).
    german.locator("[name=body]").fill("Ein Gedanke.")
    german.get_by_role("textbox", name="Name", exact=True).fill("anna@example.org")
    german.get_by_role("textbox", name="E-Mail", exact=True).fill("anna@example.org")
    german.locator("[data-testid=submit]").click()
    expect(german.locator("#name-error")).to_have_text(
        "Bitte gib deinen Namen ein, keine E-Mail-Adresse: Namen werden veröffentlicht."
    )


def test_data_lang_de_shows_german_on_an_english_page(service: Service, page: Page) -> None:
    site = service.make_site()
    html = host_page(service.url + "/widget.js", snippet(site, "ferry", lang="de"), lang="en")
    page.goto(service.page_url(html))
    expect(page.locator("[data-testid=comment-count]")).to_have_text("Noch keine Kommentare")
    expect(page.locator("[data-testid=vetted]")).to_have_attribute("lang", "de")


def test_closed_article_shows_that_comments_are_closed_and_no_form(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    service.seed_comment(site, "old-story", "Written while it was open.")
    service.lock_article(site, "old-story")
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "old-story"))))

    expect(page.locator("[data-testid=closed]")).to_have_text("Comments are closed.")
    expect(page.locator("[data-testid=comment]")).to_contain_text("Written while it was open.")
    expect(page.locator("form[data-testid=comment-form]")).to_be_hidden()
    expect(page.locator("button.vt-reply")).to_be_hidden()


def test_article_closed_while_writing_keeps_the_text_and_says_so(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    service.seed_comment(site, "closing", "First.")
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "closing"))))
    expect(page.locator("[data-testid=comment-count]")).to_have_text("1 comment")
    service.lock_article(site, "closing")

    write_comment(page, "Too late, but worth saying.")
    expect(page.locator("[data-testid=closed]")).to_have_text("Comments are closed.")
    expect(page.locator("[role=status]")).to_have_text("")  # said once, by the note
    expect(page.locator("[name=body]")).to_have_value("Too late, but worth saying.")
    expect(page.locator("[data-testid=submit]")).to_be_disabled()


def test_rate_limited_reader_is_told_to_wait_and_keeps_the_text(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    path = f"/api/v1/sites/{site}/articles/busy/comments"
    limit = int(str(service.app.config["RATELIMIT_SUBMIT"]).split()[0])
    for n in range(limit):
        body = {"name": "Ann", "email": "ann@example.org", "body": f"Comment {n}"}
        assert service.api("POST", path, body)[0] == 202
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "busy"))))

    write_comment(page, "One more thought.")
    status = page.locator("[role=status]")
    expect(status).to_contain_text("You are commenting too fast.")
    expect(status).to_contain_text(re.compile(r"You can try again in \d+ seconds\."))
    expect(page.locator("[name=body]")).to_have_value("One more thought.")
    expect(page.locator(".vt-is-pending")).to_have_count(0)
    # The wait counts down, and the button waits with it (it kept saying 56 seconds, enabled).
    submit = page.locator("[data-testid=submit]")
    expect(submit).to_have_attribute("aria-disabled", "true")
    expect(submit).to_be_focused()
    seconds = lambda: int(re.search(r"in (\d+) seconds", status.inner_text()).group(1))  # noqa: E731
    first = seconds()
    page.wait_for_timeout(2200)
    assert seconds() < first
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.keyboard.press("Enter")  # on the focused button
    page.wait_for_timeout(300)
    assert sent == []


def test_network_failure_keeps_the_text_and_a_retry_succeeds(service: Service, page: Page) -> None:
    site = service.make_site()
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "offline"))))
    expect(page.locator("[data-testid=comment-count]")).to_have_text("No comments yet")
    context: BrowserContext = page.context
    context.set_offline(True)

    write_comment(page, "Sent from the ferry, where the signal drops.")
    expect(page.locator("[role=status]")).to_have_text(
        "Your comment could not be sent. Please check your connection and try again."
    )
    expect(page.locator("[name=body]")).to_have_value(
        "Sent from the ferry, where the signal drops."
    )
    expect(page.locator("[data-testid=submit]")).to_be_focused()

    context.set_offline(False)
    page.keyboard.press("Enter")
    expect(page.locator(".vt-is-pending")).to_contain_text("where the signal drops")


def test_a_rejected_comment_leaves_a_placeholder_with_the_replies_under_it(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    parent = service.seed_comment(site, "debate", "A comment the moderators will reject")
    reply = service.seed_comment(site, "debate", "Someone else's answer", parent_id=parent)
    service.decide(site, parent, "reject", "rejected")
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "debate"))))

    placeholder = page.locator("[data-testid=thread] > li[data-testid=removed-comment]")
    expect(placeholder).to_have_attribute("data-comment-id", str(parent))
    expect(placeholder.locator("> .vt-card")).to_have_text("This comment was removed.")
    expect(placeholder.locator("[data-testid=reply]")).to_have_count(1)  # the reply's own
    nested = placeholder.locator("ol.vt-replies > li")
    expect(nested).to_have_attribute("data-comment-id", str(reply))
    expect(nested).to_contain_text("Someone else's answer")
    expect(page.locator("[data-testid=comment-count]")).to_have_text("1 comment")
    assert "A comment the moderators will reject" not in page.content()


def test_thread_pages_with_load_more_sorts_and_nests_to_the_site_depth(
    service: Service, page: Page
) -> None:
    site = service.make_site(thread_depth=3)
    first = service.seed_comment(site, "busy", "Top 0")
    reply = service.seed_comment(site, "busy", "Reply to top 0", parent_id=first)
    deeper = service.seed_comment(site, "busy", "Reply to the reply", parent_id=reply)
    deepest = service.seed_comment(site, "busy", "Reply beyond the depth", parent_id=deeper)
    for n in range(1, 21):
        service.seed_comment(site, "busy", f"Top {n}")
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "busy"))))

    top_level = page.locator("[data-testid=thread] > li")
    expect(top_level).to_have_count(20)
    expect(page.locator("[data-testid=comment-count]")).to_have_text("24 comments")
    # Three levels: the reply beyond the site's depth is shown beside its parent.
    second_level = page.locator(f"[data-comment-id='{reply}'] > ol.vt-replies > li")
    expect(second_level).to_have_count(2)
    expect(second_level.nth(0)).to_have_attribute("data-comment-id", str(deeper))
    expect(second_level.nth(1)).to_have_attribute("data-comment-id", str(deepest))

    page.focus("[data-testid=load-more]")
    page.keyboard.press("Enter")
    expect(top_level).to_have_count(21)
    expect(top_level.last).to_contain_text("Top 20")
    expect(page.locator("[data-testid=load-more]")).to_be_hidden()
    # By keyboard, on to what it loaded (a disabled button dropped the focus to the page).
    expect(top_level.last.locator("article").first).to_be_focused()

    page.select_option("select[name=sort]", "newest")
    expect(top_level.first).to_contain_text("Top 20")
    expect(top_level).to_have_count(20)


def test_on_a_right_to_left_page_the_widget_adds_no_sideways_scroll_and_mirrors_replies(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    first = service.seed_comment(site, "rtl", "\u05e9\u05dc\u05d5\u05dd, world.")
    service.seed_comment(site, "rtl", "A reply.", parent_id=first)
    html = host_page(service.url + "/widget.js", snippet(site, "rtl"))
    page.goto(service.page_url(html.replace("<html", '<html dir="rtl" lang="he"', 1)))
    expect(page.locator("[data-testid=comment-count]")).to_have_text("2 comments")
    # The honeypot sat at left: -10000px, which an RTL page can scroll to.
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1]
    replies = page.locator("ol.vt-replies").first
    assert replies.evaluate("e => getComputedStyle(e).borderRightStyle") == "solid"
    assert page.locator(".vt-content").first.get_attribute("dir") == "auto"


def test_the_too_long_message_goes_when_the_text_is_short_again(
    service: Service, page: Page
) -> None:
    site = service.make_site()
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "long"))))
    body = page.locator("[name=body]")
    body.fill("x" * 10_001)
    status = page.locator("[role=status]")
    expect(status).to_contain_text("Please shorten this to 10,000 characters or fewer.")
    expect(page.locator(".vt-counter")).to_have_text("1 character too many")
    body.fill("Short and fine.")
    expect(status).to_have_text("")


def test_an_article_key_the_api_refuses_mounts_nothing_and_says_why(
    service: Service, page: Page, watch: Watch
) -> None:
    site = service.make_site()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(service.page_url(host_page(service.url + "/widget.js", snippet(site, "story?id=4"))))
    page.wait_for_timeout(300)
    assert any("data-article must be" in message for message in messages)
    expect(page.locator("[data-testid=vetted]")).to_have_count(0)
