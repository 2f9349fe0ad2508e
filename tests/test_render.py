"""Splitting long replies under a platform's limit: Telegram's HTML pieces are each valid on their own."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from bot.channels.telegram import TEXT_LIMIT, html_text
from bot.render import split_text
from conversations.engine import Outgoing
from tests.fakes.telegram import parse_telegram_html


def visible(pieces: list[str]) -> str:
    """What a reader sees of all the pieces, whitespace aside (cuts drop the spaces and line ends they fall on)."""
    return "".join("".join(parse_telegram_html(p).text.split()) for p in pieces)


def assert_valid(pieces: list[str], limit: int) -> None:
    for piece in pieces:
        assert len(piece) <= limit, piece
        assert not parse_telegram_html(piece).problems, piece


@pytest.mark.parametrize(
    "source",
    [
        "<b>" + "&amp;" * 2000 + "</b>",  # no space to cut at: the cut falls inside an entity and inside <b>
        "<b>" + "Đánh giá &lt;xã&gt; " * 400 + "</b>\n" + "<i>" + "“gợi ý” &quot;x&quot; " * 300 + "</i>",
        "x" * 4093 + "&#x27;" + "y" * 10,
        "<b>" + "a" * 4092 + "</b>" + "b" * 100,
    ],
)
def test_a_telegram_piece_never_cuts_an_entity_or_a_tag_and_keeps_its_tags_balanced(source: str) -> None:
    pieces = split_text(source, TEXT_LIMIT, html=True)
    assert len(pieces) > 1
    assert_valid(pieces, TEXT_LIMIT)
    assert visible(pieces) == visible([source])


def test_a_long_reply_is_sent_in_bold_and_italics_part_by_part() -> None:
    text, header, hint = "Dòng & <một> “câu” dài.\n" * 500, "Tiêu đề & mục " * 30, "Gợi ý & cách trả lời " * 20
    message = Outgoing(text, header=header, hint=hint)
    pieces = split_text(html_text(message), 1000, html=True)
    assert_valid(pieces, 1000)
    assert pieces[0].startswith("<b>Tiêu đề &amp; mục")
    assert visible(pieces) == "".join((message.header + message.text + message.hint).split())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", " ", "\n", "&", "<", '"', "ạ", "xã hội"]), max_size=400),
    st.lists(st.sampled_from(["b", "i"]), max_size=3),
    st.integers(min_value=30, max_value=200),
)
def test_any_escaped_text_in_tags_splits_into_valid_pieces(chars: list[str], tags: list[str], limit: int) -> None:
    source = html.escape("".join(chars))
    for tag in tags:
        source = f"<{tag}>{source}</{tag}>"
    pieces = split_text(source, limit, html=True)
    assert_valid(pieces, limit)
    assert visible(pieces) == visible([source])


def test_plain_text_is_cut_as_before_at_line_ends_then_spaces() -> None:
    text = "một hai ba\nbốn năm sáu bảy\ntám"
    assert split_text(text, 12) == ["một hai ba", "bốn năm sáu", "bảy\ntám"]
    assert split_text("a&amp;b", 4) == ["a&am", "p;b"]  # plain text (Zalo) has no entities to keep whole


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", " ", "\n", "&amp;", "<b>", "</b>", "<i>", "</i>", "<", "ạ", "<a href='x'>"])),
    st.integers(min_value=1, max_value=120),
    st.booleans(),
)
def test_a_text_that_fits_is_sent_as_the_token_walk_would_cut_it(parts: list[str], limit: int, html: bool) -> None:
    source = "".join(parts)  # tags left open or closed twice included: the short cut must agree with the walk
    assert split_text(source, limit, html=html) == render._cut(source, limit, html)
