"""How many SMS segments a text takes, as carriers count them.

A text made only of GSM-7 characters fits 160 characters in one segment and 153 in each
part of a longer one; the GSM-7 extension characters (``{ } [ ] ~ \\ | ^ €`` and form
feed) take two. Any other character makes the whole text UCS-2: 70 in one segment, 67 in
each part, counted in UTF-16 code units (an emoji takes two).
"""
from __future__ import annotations

__all__ = [
    "count_segments",
    "is_gsm7",
    "SegmentCount",
]

import dataclasses

from . import _channels as channels

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclasses.dataclass(frozen=True)
class SegmentCount:
    """The encoding of a text, its length in that encoding's units, and its segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` has a GSM-7 encoding."""
    return _GSM7.issuperset(text)


def count_segments(text: str) -> SegmentCount:
    """Count the segments of ``text`` (an empty text takes one)."""
    gsm7 = is_gsm7(text)
    if gsm7:
        units = len(text) + sum(map(text.count, GSM7_EXTENSION))
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "GSM-7"
    else:
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    segments = 1 if units <= single else -(-units // part)
    return SegmentCount(encoding, units, segments)


def char_units(char: str, gsm7: bool) -> int:
    """What ``char`` costs in a text of that encoding: GSM-7 septets or UTF-16 units."""
    if gsm7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def single_segment_limit(text: str) -> tuple[int, bool]:
    """How many units one segment of ``text`` holds, and whether it is GSM-7."""
    gsm7 = is_gsm7(text)
    return (GSM7_SINGLE if gsm7 else UCS2_SINGLE), gsm7


def segments_of(body: str | None, address: str) -> int | None:
    """What Twilio counts for ``body`` sent to or from ``address``: SMS segments, or 1 on
    WhatsApp (which has no segments); ``None`` for no text."""
    if not body:
        return None
    return 1 if channels.is_whatsapp(address) else count_segments(body).segments
