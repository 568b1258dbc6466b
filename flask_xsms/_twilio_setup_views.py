"""The settings page's Twilio check, one-click configuration and webhook test, as a
small JSON API.

The settings page's script asks :func:`status` after the page has loaded, so the page
stays fast when Twilio is slow or unreachable, and posts to :func:`configure` (with the
page's CSRF token) after the operator confirmed. With :data:`XSMS_TWILIO_CHECKS` false
both answer 404 and the page does not ask. The Test webhook button posts to
:func:`test_webhook` and shows its answer beside itself. Same permission check as the page.
"""
from __future__ import annotations

from flask import abort
from flask import Blueprint
from flask import jsonify
from flask import request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from . import _diagnostics as diagnostics
from . import twilio_setup
from ._config import config_value
from .errors import NumberError
from .errors import NumberNotBound
from ._forms import TwilioConfigureForm
from ._forms import TEST_EXPIRED_MESSAGE
from ._forms import WebhookTestForm
from .integrations import create_integration
from ._state import get_state
from ._web import json_error

#: Answered when the page's CSRF token is missing or expired.
EXPIRED_MESSAGE = (
    "This page has expired. Nothing was changed in Twilio: reload the page and try again."
)
#: Answered by :func:`status` and :func:`configure` when XSMS_TWILIO_CHECKS is false.
CHECKS_OFF_MESSAGE = "Twilio checks are off in this app (XSMS_TWILIO_CHECKS)."


def create_twilio_setup_blueprint() -> Blueprint:
    """Build the ``xsms_twilio`` blueprint for one app."""
    bp = Blueprint("xsms_twilio", __name__)
    bp.add_url_rule(
        "/domains/<domain_id>/twilio-sms/twilio-status", view_func=status, methods=["GET"]
    )
    bp.add_url_rule(
        "/domains/<domain_id>/twilio-sms/twilio-configure", view_func=configure, methods=["POST"]
    )
    bp.add_url_rule(
        "/domains/<domain_id>/twilio-sms/webhook-test", view_func=test_webhook, methods=["POST"]
    )
    for code in (400, 403, 404):
        bp.register_error_handler(code, _json_error)
    return bp


def status(domain_id: str) -> Response:
    """What Twilio says about each saved number of the domain."""
    domain = get_state().manageable_domain(domain_id)
    _require_checks()
    return _statuses(twilio_setup.check(domain))


def configure(domain_id: str) -> Response | tuple[Response, int]:
    """Configure saved numbers (repeated form field ``phone_number``; none: all) in Twilio."""
    domain = get_state().manageable_domain(domain_id)
    _require_checks()
    form = TwilioConfigureForm()
    if not form.validate_on_submit():
        return json_error(EXPIRED_MESSAGE, 400)
    wanted = [n.strip() for n in request.form.getlist("phone_number") if n.strip()]
    try:
        results = twilio_setup.configure(domain, numbers=wanted or None)
    except (NumberNotBound, NumberError) as e:
        return json_error(f"{e} Save it first, then configure it in Twilio.", 400)
    return _statuses(results)


def test_webhook(domain_id: str) -> Response | tuple[Response, int]:
    """Post a request signed as Twilio signs to the domain's Request URL; answer
    ``{"ok", "url", "message"}`` (see :func:`flask_xsms._diagnostics.send_test_webhook`)."""
    domain = get_state().manageable_domain(domain_id)
    if not WebhookTestForm().validate_on_submit():
        return json_error(TEST_EXPIRED_MESSAGE, 400)
    result = diagnostics.send_test_webhook(create_integration(domain))
    return jsonify(ok=result.ok, url=result.url, message=result.message)


def _require_checks() -> None:
    if not config_value("TWILIO_CHECKS"):
        abort(404, CHECKS_OFF_MESSAGE)


def _statuses(results: list[twilio_setup.NumberStatus]) -> Response:
    return jsonify(numbers=[r.as_dict() for r in results])


def _json_error(error: HTTPException) -> tuple[Response, int]:
    message = error.description or error.name
    if isinstance(error, CSRFError):  # the host's CSRFProtect refused the page's token
        expired = (
            TEST_EXPIRED_MESSAGE
            if request.endpoint == "xsms_twilio.test_webhook"
            else EXPIRED_MESSAGE
        )
        message = f"{expired} ({message})"
    return json_error(message, error.code or 500)
