"""Twilio's webhooks: Request URL, Fallback URL and status callback of each domain.

Twilio signs these requests instead of sending a CSRF token, so the blueprint is exempt
from the host's CSRF protection.
"""
from __future__ import annotations

from flask import abort
from flask import Blueprint


def create_webhooks_blueprint() -> Blueprint:
    """Build the ``xsms_webhooks`` blueprint (the extension exempts it from ``CSRFProtect``)."""
    bp = Blueprint("xsms_webhooks", __name__)
    bp.add_url_rule("/hooks/<webhook_id>/sms", view_func=inbound, methods=["POST"])
    bp.add_url_rule("/hooks/<webhook_id>/fallback", view_func=fallback, methods=["POST"])
    bp.add_url_rule("/hooks/<webhook_id>/status", view_func=status, methods=["POST"])
    return bp


def inbound(webhook_id: str) -> None:
    abort(501)


def fallback(webhook_id: str) -> None:
    abort(501)


def status(webhook_id: str) -> None:
    abort(501)
