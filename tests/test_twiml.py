"""Replies become TwiML within Twilio's limits."""

from __future__ import annotations

import typing as t
import xml.etree.ElementTree as ET

import pytest

from flask_xsms import Reply
from flask_xsms._twiml import as_replies
from flask_xsms._twiml import empty_response
from flask_xsms._twiml import MAX_BODY
from flask_xsms._twiml import messaging_response
from flask_xsms._twiml import plan_messages
from flask_xsms._twiml import replies_twiml
from flask_xsms._twiml import split_body
from flask_xsms._twiml import text_length


def messages_of(twiml: str) -> list[tuple[str, list[str]]]:
    root = ET.fromstring(twiml.encode())
    assert root.tag == "Response"
    out = []
    for verb in root:
        assert verb.tag == "Message"
        body = verb.find("Body")
        out.append(
            (
                (body.text if body is not None else verb.text) or "",
                [m.text for m in verb.findall("Media")],
            )
        )
    return out


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        (None, []),
        ("", []),
        ("   ", []),
        ("Hi", [Reply("Hi")]),
        (["a", "b"], [Reply("a"), Reply("b")]),
        (("a", None, ""), [Reply("a")]),
        (Reply("t", ["https://x.test/a.png"]), [Reply("t", ("https://x.test/a.png",))]),
        (Reply("", ["https://x.test/a.png"]), [Reply("", ("https://x.test/a.png",))]),
        ([Reply("r"), "s"], [Reply("r"), Reply("s")]),
        ((w for w in ["g1", "g2"]), [Reply("g1"), Reply("g2")]),
        (Reply(""), []),
    ],
)
def test_every_reply_shape_is_accepted(returned: t.Any, expected: list[Reply]) -> None:
    assert as_replies(returned) == expected


@pytest.mark.parametrize("returned", [42, b"bytes", {"body": "x"}, [1], [["nested"]], object()])
def test_other_return_values_are_refused(returned: t.Any) -> None:
    with pytest.raises(TypeError, match="Reply"):
        as_replies(returned)


def test_reply_wants_a_list_of_urls() -> None:
    with pytest.raises(TypeError):
        Reply("x", "https://x.test/a.png")  # type: ignore[arg-type]
    assert Reply("x", ["u"]).media_urls == ("u",)


def test_no_reply_is_an_empty_response() -> None:
    root = ET.fromstring(empty_response().encode())
    assert root.tag == "Response" and len(root) == 0
    assert messages_of(replies_twiml([])) == []


def test_text_is_escaped_and_kept() -> None:
    text = 'Fish & chips <b>now</b> "quoted" — Grüße 👋 日本語'
    assert messages_of(replies_twiml([Reply(text)])) == [(text, [])]


def test_characters_xml_cannot_carry_are_dropped() -> None:
    assert messages_of(replies_twiml([Reply("a\x00b\x07c\x1fd\ufffee")])) == [("abcde", [])]


def test_short_text_is_one_piece() -> None:
    assert split_body("x" * MAX_BODY) == ["x" * MAX_BODY]
    assert split_body("hello world") == ["hello world"]


def test_long_text_splits_on_word_boundaries_under_the_limit() -> None:
    words = [f"word{i}" for i in range(1500)]
    text = " ".join(words)
    pieces = split_body(text)
    assert len(pieces) > 1
    assert all(len(p) <= MAX_BODY for p in pieces)
    assert " ".join(pieces) == text
    for piece in pieces:  # no word is cut
        assert piece.split(" ")[0] in words and piece.split(" ")[-1] in words


def test_a_word_longer_than_the_limit_is_cut() -> None:
    text = "a" * 4000
    pieces = split_body(text)
    assert [len(p) for p in pieces] == [1600, 1600, 800]
    assert "".join(pieces) == text


def test_emoji_count_as_two_characters() -> None:
    text = " ".join(["👋😀"] * 1000)  # 5 UTF-16 units per word with its space
    pieces = split_body(text)
    assert all(text_length(p) <= MAX_BODY for p in pieces)
    assert " ".join(pieces) == text
    assert text_length("👋") == 2


def test_newlines_are_word_boundaries_too() -> None:
    text = ("line of text\n" * 400).strip()
    pieces = split_body(text)
    assert all(len(p) <= MAX_BODY for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_media_go_ten_per_message_with_the_text_first() -> None:
    urls = [f"https://x.test/{i}.png" for i in range(25)]
    sent = messages_of(replies_twiml([Reply("Pictures", urls)]))
    assert sent == [("Pictures", urls[:10]), ("", urls[10:20]), ("", urls[20:])]


def test_long_text_with_media() -> None:
    text = "word " * 700
    urls = [f"https://x.test/{i}.png" for i in range(12)]
    sent = messages_of(replies_twiml([Reply(text, urls)]))
    assert len(sent) == 3
    assert [m for _, m in sent] == [urls[:10], urls[10:], []]
    assert " ".join(b for b, _ in sent) == text.strip()


def test_one_message_element_per_planned_message() -> None:
    planned = plan_messages([Reply("a"), Reply("b"), Reply("", ["u"])])
    assert messages_of(messaging_response(planned)) == [("a", []), ("b", []), ("", ["u"])]
