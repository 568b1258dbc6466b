"""The JSON API: read and replace the number bindings of a domain.

Same rules, same words and same permission check as the settings page.

Writes are protected against cross-site request forgery like every form of the
extension, with Flask-WTF's CSRF token, whether or not the host uses ``CSRFProtect``
(the blueprint is exempt from it and checks by itself):

* a write (``PUT``) that carries cookies must send the token in the ``X-CSRFToken``
  header (any name of ``WTF_CSRF_HEADERS``), or it is refused with 400 before anything
  else is read;
* a request without any cookie needs no token: that is how scripts call the API, with a
  token in the ``Authorization`` header that the host's login checks (e.g. Flask-Login's
  ``request_loader``). A forged request can only ride on a signed-in user's session
  through the cookies the browser adds to it, so it always carries cookies;
* every answer to a request that carries the session cookie has the token in its
  ``X-CSRFToken`` header (so does ``csrf_token()`` in the host's templates);
* ``WTF_CSRF_ENABLED = False`` turns the check off, as for every form.

A ``PUT`` must also be ``Content-Type: application/json``, which a cross-site form cannot
send and a cross-site script cannot send without a CORS preflight, which this API never
grants.
"""
from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request
from flask_wtf.csrf import generate_csrf
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import ValidationError

from . import numbers
from .errors import BindingError
from .errors import RowError
from ._state import get_state
from .integrations import create_integration
from .integrations import webhook_urls
from ._values import Domain
from ._values import Pair
from ._web import error_item
from ._web import json_errors

#: Error statuses that the API answers as JSON instead of the host's HTML pages.
JSON_ERROR_CODES = (400, 401, 403, 404, 405, 409, 413, 415, 422)

#: Error of a row of a ``PUT`` body that is not a JSON object.
ROW_NOT_AN_OBJECT = 'Each row must be an object with "phone_number" and "application_id".'

#: Follows Flask-WTF's reason ("The CSRF token is missing.") when a write is refused.
CSRF_REFUSED = (
    "Nothing was saved: a request with cookies must send the CSRF token in the X-CSRFToken"
    " header (a GET of this URL answers with it in that header); a script that signs in"
    " with a token sends no cookies."
)

# Flask-WTF's defaults, for hosts without CSRFProtect (which sets them in the config).
_CSRF_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


class _BadBody(Exception):
    def __init__(self, errors: list[RowError | dict[str, t.Any]]) -> None:
        self.errors = errors


def create_api_blueprint() -> Blueprint:
    """Build the ``xsms_api`` blueprint (exempt from ``CSRFProtect``: it checks by itself)."""
    bp = Blueprint("xsms_api", __name__)
    bp.before_request(_check_csrf)
    bp.after_request(_send_csrf_token)
    bp.add_url_rule("/api/domains/<domain_id>/numbers", view_func=get_numbers, methods=["GET"])
    bp.add_url_rule("/api/domains/<domain_id>/numbers", view_func=put_numbers, methods=["PUT"])
    for code in JSON_ERROR_CODES:
        bp.register_error_handler(code, _json_error)
    return bp


def get_numbers(domain_id: str) -> Response:
    """The domain's pairs, its bindable applications and its webhook URLs."""
    domain = get_state().manageable_domain(domain_id)
    return jsonify(_numbers_document(domain))


def put_numbers(domain_id: str) -> Response | tuple[Response, int]:
    """Replace the domain's pairs with ``{"numbers": [{"phone_number", "application_id"}]}``."""
    domain = get_state().manageable_domain(domain_id)
    if not request.is_json:
        return json_errors([error_item("Send the numbers as JSON: Content-Type: application/json.")], 415)
    try:
        pairs = _pairs_from(request.get_json(silent=True))
        numbers.replace_bindings(domain, pairs)
    except _BadBody as e:
        return json_errors(e.errors, 400)
    except BindingError as e:
        return json_errors(e.errors, 400)
    return jsonify(_numbers_document(domain))


def _check_csrf() -> tuple[Response, int] | None:
    """Refuse a write that carries cookies without a valid CSRF token."""
    config = current_app.config
    if request.method not in config.get("WTF_CSRF_METHODS", _CSRF_METHODS):
        return None
    if not request.cookies or not config.get("WTF_CSRF_ENABLED", True):
        return None
    headers = config.get("WTF_CSRF_HEADERS", _CSRF_HEADERS)
    token = next((request.headers[h] for h in headers if request.headers.get(h)), None)
    try:
        validate_csrf(token)
    except ValidationError as e:
        return json_errors([error_item(f"{e.args[0]} {CSRF_REFUSED}")], 400)
    return None


def _send_csrf_token(response: Response) -> Response:
    """Give the CSRF token to callers with a session (a signed-in browser, say)."""
    config = current_app.config
    signed_in = current_app.session_interface.get_cookie_name(current_app) in request.cookies
    if signed_in and config.get("WTF_CSRF_ENABLED", True) and current_app.secret_key:
        headers = config.get("WTF_CSRF_HEADERS", _CSRF_HEADERS)
        response.headers[headers[0]] = generate_csrf()
    return response


def _numbers_document(domain: Domain) -> dict[str, t.Any]:
    urls = webhook_urls(create_integration(domain))
    return {
        "domain": {"id": domain.id, "name": domain.name, "environment": domain.environment},
        "numbers": [
            {
                "phone_number": b.phone_number,
                "application_id": b.application_id,
                "messaging_service": b.is_messaging_service,
            }
            for b in numbers.bindings_of(domain)
        ],
        "applications": [
            {"id": a.id, "name": a.name, "channel_type": a.channel_type}
            for a in numbers.bindable_applications(domain)
        ],
        "webhook_urls": {
            "request_url": urls.request_url,
            "fallback_url": urls.fallback_url,
            "status_callback_url": urls.status_callback_url,
        },
    }


def _pairs_from(body: t.Any) -> list[Pair]:
    if not isinstance(body, dict) or not isinstance(body.get("numbers"), list):
        raise _BadBody(
            [
                error_item(
                    'The body must be a JSON object such as {"numbers": [...]}.', field="numbers"
                )
            ]
        )
    pairs: list[Pair] = []
    errors: list[RowError | dict[str, t.Any]] = []
    for row, item in enumerate(body["numbers"]):
        if not isinstance(item, dict):
            errors.append(RowError(row, "phone_number", ROW_NOT_AN_OBJECT))
            continue
        values = {}
        for key, field in (("phone_number", "phone_number"), ("application_id", "application")):
            value = item.get(key)
            # Ids may come as JSON numbers; the host's ids are strings.
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if value is not None and not isinstance(value, str):
                errors.append(RowError(row, field, f'"{key}" must be a string.'))
                value = None
            values[key] = value or ""
        pairs.append(Pair(values["phone_number"], values["application_id"]))
    if errors:
        raise _BadBody(errors)
    return pairs


def _json_error(error: HTTPException) -> tuple[Response, int]:
    return json_errors([error_item(error.description or error.name)], error.code or 500)
