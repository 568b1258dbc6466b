"""The settings page's Twilio check and one-click configuration, as a small JSON API.

The settings page's script asks :func:`status` after the page has loaded, so the page
stays fast when Twilio is slow or unreachable, and posts to :func:`configure` (with the
page's CSRF token) after the operator confirmed. Same permission check as the page.
"""
from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from . import twilio_setup
from .errors import NumberError
from .errors import NumberNotBound
from .state import get_state
from .forms import TwilioConfigureForm

#: Answered when the page's CSRF token is missing or expired.
EXPIRED_MESSAGE = (
    "This page has expired. Nothing was changed in Twilio: reload the page and try again."
)


def create_twilio_setup_blueprint() -> Blueprint:
    """Build the ``xsms_twilio`` blueprint for one app."""
    bp = Blueprint("xsms_twilio", __name__)
    bp.add_url_rule(
        "/domains/<domain_id>/twilio-sms/twilio-status", view_func=status, methods=["GET"]
    )
    bp.add_url_rule(
        "/domains/<domain_id>/twilio-sms/twilio-configure", view_func=configure, methods=["POST"]
    )
    for code in (400, 403, 404):
        bp.register_error_handler(code, _json_error)
    return bp


def status(domain_id: str) -> Response:
    """What Twilio says about each saved number of the domain."""
    domain = get_state().manageable_domain(domain_id)
    return _statuses(twilio_setup.check(domain))


def configure(domain_id: str) -> Response | tuple[Response, int]:
    """Configure saved numbers (repeated form field ``phone_number``; none: all) in Twilio."""
    domain = get_state().manageable_domain(domain_id)
    form = TwilioConfigureForm()
    if not form.validate_on_submit():
        return jsonify(error=EXPIRED_MESSAGE), 400
    wanted = [n.strip() for n in request.form.getlist("phone_number") if n.strip()]
    try:
        results = twilio_setup.configure(domain, numbers=wanted or None)
    except (NumberNotBound, NumberError) as e:
        return jsonify(error=f"{e} Save it first, then configure it in Twilio."), 400
    return _statuses(results)


def _statuses(results: list[twilio_setup.NumberStatus]) -> Response:
    return jsonify(numbers=[r.as_dict() for r in results])


def _json_error(error: HTTPException) -> tuple[Response, int]:
    return jsonify(error=error.description or error.name), error.code or 500
