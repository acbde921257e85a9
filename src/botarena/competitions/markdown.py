"""A competition's description, Markdown rendered safely: raw HTML is shown as text, a link
may point only at http(s), mailto or a relative address, and an image only at this server
(a page loads nothing from elsewhere: an image from another site becomes a link to it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _safe_link(url: str) -> bool:
    """Whether a link target may be rendered: an allowed scheme, or no scheme at all."""
    cleaned = "".join(url.split()).lower()
    if cleaned.startswith(SAFE_SCHEMES):
        return True
    head = cleaned.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return ":" not in head


def _elsewhere(url: str) -> bool:
    """Whether ``url`` leaves this server (a scheme, or ``//host``)."""
    cleaned = "".join(url.split()).lower()
    return cleaned.startswith("//") or not _safe_link(cleaned) or ":" in cleaned.split("/", 1)[0]


def _image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if not _elsewhere(src):
        html: str = renderer.image(tokens, idx, options, env)
        return html
    alt = renderer.renderInlineAsText(token.children or [], options, env) or src
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt)}</a>'


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.enable("table")
    md.add_render_rule("image", _image)
    return md


def render(text: str) -> str:
    """``text`` as HTML safe to put in a page."""
    html: str = _renderer().render(text)
    return html
