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
# One match per URL, scheme and "www." together, so https://www.example.com counts once; a
# bare www. only starts a link where no word, dot or slash comes before it.
LINK = re.compile(r"https?://[^\s<>()\[\]]+|(?<![\w./@-])www\.[^\s<>()\[\]]+", re.IGNORECASE)


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
