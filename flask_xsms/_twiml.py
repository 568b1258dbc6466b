"""Chatbot replies as TwiML, within Twilio's limits.

A reply becomes one or more ``<Message>`` verbs: text longer than :data:`MAX_BODY`
characters is split on word boundaries, and media go at most :data:`MAX_MEDIA` per
message. No reply gives an empty ``<Response/>``, which sends nothing.
"""

from __future__ import annotations

import collections.abc as c
import re
import typing as t

from twilio.twiml.messaging_response import MessagingResponse

from .segments import char_units
from .segments import single_segment_limit
from ._values import Reply

#: Longest body of one message, in characters (Twilio's limit).
MAX_BODY = 1600
#: Most media URLs in one message (Twilio's limit).
MAX_MEDIA = 10

# Characters XML 1.0 can't carry; ElementTree would write them and break the TwiML.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACE = re.compile(r"\s")


def as_replies(value: t.Any) -> list[Reply]:
    """Turn what a receiver returned into a list of :class:`~flask_xsms.Reply`.

    Accepts ``None``, a string, a :class:`~flask_xsms.Reply`, or an iterable of strings
    and replies. Blank strings and empty replies are dropped.

    :raises TypeError: for anything else.
    """
    if value is None:
        return []
    if isinstance(value, (str, Reply)):
        items: c.Iterable[t.Any] = [value]
    elif isinstance(value, c.Iterable) and not isinstance(value, (bytes, c.Mapping)):
        items = value
    else:
        raise TypeError(
            "A chatbot must return None, a string, a flask_xsms.Reply or a list of them,"
            f" not {type(value).__name__}."
        )
    replies: list[Reply] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, str):
            item = Reply(item)
        if not isinstance(item, Reply):
            raise TypeError(
                "A chatbot reply must be a string or a flask_xsms.Reply,"
                f" not {type(item).__name__}."
            )
        if item.body.strip() or item.media_urls:
            replies.append(item)
    return replies


def text_length(text: str) -> int:
    """Length of ``text`` as Twilio counts it: in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_body(text: str, limit: int = MAX_BODY, *, one_segment: bool = False) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, on word boundaries.

    With ``one_segment``, each piece also fits one SMS segment (160 GSM-7 characters, or
    70 UTF-16 units when the text needs UCS-2), so no piece relies on carriers joining
    segments. The whitespace where a split happens is dropped; a word longer than the
    limit is cut.
    """
    gsm7 = False
    if one_segment:
        limit, gsm7 = single_segment_limit(text)
    pieces: list[str] = []
    while _units(text, gsm7) > limit:
        end = max(_prefix_end(text, limit, gsm7), 1)
        if _SPACE.match(text, end):
            cut = end
        else:
            last = 0
            for space in _SPACE.finditer(text, 0, end):
                last = space.start()
            cut = last or end
        piece = text[:cut].rstrip()
        if piece:
            pieces.append(piece)
        text = text[cut:].lstrip()
    if text.strip():
        pieces.append(text.rstrip() if pieces else text)
    return pieces


def plan_messages(replies: c.Iterable[Reply], *, one_segment: bool = False) -> list[Reply]:
    """The messages that ``replies`` become: each body under the limit (with
    ``one_segment``, within one SMS segment), at most :data:`MAX_MEDIA` media each, text
    unsafe for XML removed.

    The first pieces of a long reply carry its media, ten by ten.
    """
    messages: list[Reply] = []
    for reply in replies:
        body = xml_safe(reply.body)
        bodies = split_body(body, one_segment=one_segment) if body.strip() else []
        urls = [xml_safe(u) for u in reply.media_urls if u]
        media = [tuple(urls[i : i + MAX_MEDIA]) for i in range(0, len(urls), MAX_MEDIA)]
        for i in range(max(len(bodies), len(media))):
            messages.append(
                Reply(bodies[i] if i < len(bodies) else "", media[i] if i < len(media) else ())
            )
    return messages


def messaging_response(messages: c.Iterable[Reply]) -> str:
    """TwiML with one ``<Message>`` per item of ``messages`` (see :func:`plan_messages`)."""
    response = MessagingResponse()
    for message in messages:
        if message.media_urls:
            verb = response.message()
            if message.body:
                verb.body(message.body)
            for url in message.media_urls:
                verb.media(url)
        elif message.body:
            response.message(message.body)
    return str(response)


def replies_twiml(replies: c.Iterable[Reply]) -> str:
    """TwiML for ``replies``: :func:`plan_messages` then :func:`messaging_response`."""
    return messaging_response(plan_messages(replies))


def empty_response() -> str:
    """An empty ``<Response/>``: Twilio sends nothing."""
    return _EMPTY


_EMPTY = str(MessagingResponse())


def has_messages(twiml: str | None) -> bool:
    """Whether a TwiML answer (as built here) sends at least one message."""
    return bool(twiml) and "<Message" in t.cast(str, twiml)


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 can't carry."""
    return _NOT_XML.sub("", text)


def _units(text: str, gsm7: bool) -> int:
    return sum(char_units(ch, gsm7) for ch in text) if gsm7 else text_length(text)


def _prefix_end(text: str, limit: int, gsm7: bool = False) -> int:
    """The largest index such that ``text[:index]`` is at most ``limit`` long."""
    units = 0
    for index, char in enumerate(text):
        units += char_units(char, gsm7)
        if units > limit:
            return index
    return len(text)
