"""A competition's description, Markdown rendered safely: raw HTML is shown as text, and a
link or image may point only at http(s), mailto or a relative address."""

from __future__ import annotations

from markdown_it import MarkdownIt

SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _safe_link(url: str) -> bool:
    """Whether a link target may be rendered: an allowed scheme, or no scheme at all."""
    cleaned = "".join(url.split()).lower()
    if cleaned.startswith(SAFE_SCHEMES):
        return True
    head = cleaned.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return ":" not in head


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.enable("table")
    return md


def render(text: str) -> str:
    """``text`` as HTML safe to put in a page."""
    html: str = _renderer().render(text)
    return html
