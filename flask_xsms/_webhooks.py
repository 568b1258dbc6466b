"""Twilio's webhooks: Request URL, Fallback URL and status callback of each domain.

Twilio signs these requests instead of sending a CSRF token, so the blueprint is exempt
from the host's CSRF protection. Each view only checks the request
(:func:`flask_xsms._twilio_auth.authenticate`), parses it and calls a service.
"""

from __future__ import annotations

import logging
import typing as t

from flask import Blueprint
from flask import request
from flask import Response
from sqlalchemy.exc import SQLAlchemyError

from . import _diagnostics as diagnostics
from . import outbound
from . import _twilio_auth as twilio_auth
from .errors import InvalidWebhookRequest
from ._inbound import clean_parameters
from ._inbound import fallback_twiml
from ._inbound import handle_fallback
from ._inbound import handle_inbound
from ._inbound import parse_inbound
from ._state import get_state
from ._twiml import empty_response

if t.TYPE_CHECKING:
    from .models import Integration

logger = logging.getLogger("flask_xsms")


def create_webhooks_blueprint() -> Blueprint:
    """Build the ``xsms_webhooks`` blueprint (the extension exempts it from ``CSRFProtect``)."""
    bp = Blueprint("xsms_webhooks", __name__)
    bp.add_url_rule(
        "/hooks/<webhook_id>/sms", endpoint="inbound", view_func=request_url, methods=["POST"]
    )
    bp.add_url_rule(
        "/hooks/<webhook_id>/fallback",
        endpoint="fallback",
        view_func=fallback_url,
        methods=["POST"],
    )
    bp.add_url_rule("/hooks/<webhook_id>/status", view_func=status, methods=["POST"])
    bp.register_error_handler(InvalidWebhookRequest, _bad_request)
    return bp


def request_url(webhook_id: str) -> Response:
    """The Request URL: a customer's message, answered with the chatbot's replies.

    When the message can't be stored (the database is down) it answers 503, so that
    Twilio calls the Fallback URL, which answers the customer politely and stores the
    message if it can. A signed request of the settings page's Test webhook button
    (:data:`~flask_xsms._diagnostics.TEST_PARAMETER`) gets an empty answer, nothing more.
    """
    try:
        integration = twilio_auth.authenticate(webhook_id)
        if request.form.get(diagnostics.TEST_PARAMETER):
            return _twiml(empty_response())
        message = parse_inbound(request.form)
        result = handle_inbound(integration, message)
    except SQLAlchemyError:
        _database_down()
        return Response(b"", status=503, mimetype="text/plain")
    return _twiml(result.twiml)


def fallback_url(webhook_id: str) -> Response:
    """The Fallback URL: Twilio could not use the Request URL; answer politely."""
    integration: Integration | None
    try:
        integration = twilio_auth.authenticate(webhook_id)
    except SQLAlchemyError:
        integration = None
        _database_down()
    try:
        message = parse_inbound(request.form)
    except InvalidWebhookRequest as e:
        # Nothing to store without these; the customer still gets an answer.
        logger.warning("Fallback URL called without a usable message (%s).", e.description)
        return _twiml(fallback_twiml())
    result = handle_fallback(
        integration,
        message,
        # from the parsed parameters: NUL, which PostgreSQL refuses, is replaced there
        error_code=message.params.get("ErrorCode") or None,
        error_url=message.params.get("ErrorUrl") or None,
    )
    return _twiml(result.twiml)


def status(webhook_id: str) -> Response:
    """The status callback of the messages we send: record the new status."""
    try:
        integration = twilio_auth.authenticate(webhook_id)
        missing = [n for n in ("MessageSid", "MessageStatus") if not request.form.get(n)]
        if missing:
            raise InvalidWebhookRequest(f"Missing parameter: {', '.join(missing)}.")
        outbound.record_status(integration, clean_parameters(request.form))
    except SQLAlchemyError:
        # Twilio needs no answer here; 503 tells its debugger the status was not kept.
        _database_down()
        return Response(b"", status=503, mimetype="text/plain")
    return Response(status=204)


def _database_down() -> None:
    """Log a database outage, once the request is known to be Twilio's (else 403)."""
    _rollback()
    twilio_auth.authenticate_without_database()
    logger.exception("The database is unavailable while webhook %s is called.", request.path)


def _twiml(twiml: str) -> Response:
    return Response(twiml, mimetype="text/xml")


def _bad_request(e: InvalidWebhookRequest) -> Response:
    logger.warning("Refused a signed webhook request to %s: %s", request.path, e.description)
    return Response(e.description, status=400, mimetype="text/plain")


def _rollback() -> None:
    try:
        get_state().session.rollback()
    except SQLAlchemyError:
        logger.debug("Rollback failed as well.", exc_info=True)
