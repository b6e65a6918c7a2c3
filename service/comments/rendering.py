"""Comment bodies: a small Markdown subset rendered once, then cleaned with nh3."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

# Raw HTML in the source is escaped (html=False); only these constructs are understood.
_markdown = MarkdownIt("zero", {"html": False, "breaks": True}).enable(
    ["emphasis", "link", "autolink", "blockquote", "backticks", "fence", "code", "newline"]
)

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "blockquote", "code", "pre"}
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


def render_body(body: str) -> str:
    """Safe HTML for a comment body; links get rel="nofollow ugc noopener"."""
    html = _markdown.render(body)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
    ).strip()


def count_links(body: str) -> int:
    """How many links a body holds, written as URLs or as Markdown."""
    return len(LINK.findall(body))
