"""A competition's description rendered: raw HTML as text, unsafe link schemes left as text,
and images only from this server (an image elsewhere becomes a link: a page loads nothing
from another site)."""

from __future__ import annotations

import pytest

from botarena.competitions.markdown import render


def test_raw_html_and_unsafe_links_stay_text() -> None:
    html = render("<script>x()</script> [bad](javascript:alert(1)) [ok](https://a.example/r)")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://a.example/r">ok</a>' in html


@pytest.mark.parametrize(
    "src", ["https://elsewhere.example/cat.png", "//elsewhere.example/cat.png", "HTTP://x/y.png"]
)
def test_an_image_from_elsewhere_becomes_a_link(src: str) -> None:
    html = render(f"![a cat]({src})")
    assert "<img" not in html
    assert ">a cat</a>" in html and "href=" in html


def test_an_image_of_this_server_is_shown() -> None:
    html = render('![board](/static/board.png "the board")')
    assert '<img src="/static/board.png" alt="board" title="the board" />' in html
