"""Blinker signals sent by flask-xsms.

Receivers should accept ``**extra`` so that new keyword arguments don't break them.
blinker holds receivers weakly unless ``weak=False`` is passed to ``connect``.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent after a domain's number bindings were saved.
#: Sender: the Flask app. Keyword arguments: ``domain`` (:class:`~flask_xsms.Domain`),
#: ``bindings`` (list of :class:`~flask_xsms.models.NumberBinding`, as saved).
numbers_saved = _signals.signal("numbers-saved")
