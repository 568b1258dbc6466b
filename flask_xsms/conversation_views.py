"""The conversations pages of an IA Domain: the list, and a thread an operator can take
over, answer and hand back. Every view checks the host's permission callback first."""
from __future__ import annotations

from flask import Blueprint


def create_conversations_blueprint() -> Blueprint:
    """Build the ``xsms_conversations`` blueprint for one app."""
    bp = Blueprint("xsms_conversations", __name__)
    return bp
