from __future__ import annotations

import pytest

from flask_xsms.segments import count_segments
from flask_xsms.segments import is_gsm7
from flask_xsms.segments import SegmentCount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentCount("GSM-7", 0, 1)),
        ("Hello!", SegmentCount("GSM-7", 6, 1)),
        ("a" * 160, SegmentCount("GSM-7", 160, 1)),
        ("a" * 161, SegmentCount("GSM-7", 161, 2)),
        ("a" * 306, SegmentCount("GSM-7", 306, 2)),
        ("a" * 307, SegmentCount("GSM-7", 307, 3)),
        ("a" * 1600, SegmentCount("GSM-7", 1600, 11)),
        # extension characters count twice
        ("€" * 80, SegmentCount("GSM-7", 160, 1)),
        ("a" * 159 + "{", SegmentCount("GSM-7", 161, 2)),
        ("[~]|^\\\f", SegmentCount("GSM-7", 14, 1)),
        ("Ça coûte 5 €", SegmentCount("UCS-2", 12, 1)),  # û is not GSM-7
        ("Grüße, Ñandù à", SegmentCount("GSM-7", 14, 1)),
        ("Ñandú", SegmentCount("UCS-2", 5, 1)),  # ú is not GSM-7, ù is
        ("é" * 160, SegmentCount("GSM-7", 160, 1)),
        ("ê" * 70, SegmentCount("UCS-2", 70, 1)),
        ("ê" * 71, SegmentCount("UCS-2", 71, 2)),
        ("ê" * 134, SegmentCount("UCS-2", 134, 2)),
        ("ê" * 135, SegmentCount("UCS-2", 135, 3)),
        # an emoji is two UTF-16 units and makes the whole text UCS-2
        ("Hi 👋", SegmentCount("UCS-2", 5, 1)),
        ("👋" * 35, SegmentCount("UCS-2", 70, 1)),
        ("👋" * 36, SegmentCount("UCS-2", 72, 2)),
        ("a" * 159 + "👋", SegmentCount("UCS-2", 161, 3)),
        ("你好" * 800, SegmentCount("UCS-2", 1600, 24)),
    ],
)
def test_segments(text: str, expected: SegmentCount) -> None:
    assert count_segments(text) == expected


def test_gsm7_alphabet() -> None:
    assert is_gsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà")
    assert not is_gsm7("`")  # the backtick has no GSM-7 code
    assert not is_gsm7("ç")  # only the capital Ç is in the alphabet
