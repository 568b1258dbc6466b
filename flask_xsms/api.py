"""The JSON API: read and replace the number bindings of a domain.

Same rules, same words and same permission check as the settings page. The blueprint is
exempt from the host's ``CSRFProtect``; instead a ``PUT`` must be
``Content-Type: application/json``, which a cross-site form cannot send and a cross-site
script cannot send without a CORS preflight, which this API never grants.
"""
from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from . import numbers
from .errors import BindingError
from .errors import RowError
from .state import get_state
from .integrations import integration_for
from .integrations import webhook_urls
from .types import Domain
from .types import Pair

#: Error statuses that the API answers as JSON instead of the host's HTML pages.
JSON_ERROR_CODES = (400, 401, 403, 404, 413, 415)

#: Error of a row of a ``PUT`` body that is not a JSON object.
ROW_NOT_AN_OBJECT = 'Each row must be an object with "phone_number" and "application_id".'


class _BadBody(Exception):
    def __init__(self, errors: list[RowError | dict[str, t.Any]]) -> None:
        self.errors = errors


def create_api_blueprint() -> Blueprint:
    """Build the ``xsms_api`` blueprint (the extension exempts it from ``CSRFProtect``)."""
    bp = Blueprint("xsms_api", __name__)
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
        return _errors([_message("Send the numbers as JSON: Content-Type: application/json.")], 415)
    try:
        pairs = _pairs_from(request.get_json(silent=True))
        numbers.replace_bindings(domain, pairs)
    except _BadBody as e:
        return _errors(e.errors, 400)
    except BindingError as e:
        return _errors(e.errors, 400)
    return jsonify(_numbers_document(domain))


def _numbers_document(domain: Domain) -> dict[str, t.Any]:
    integration = integration_for(domain)
    assert integration is not None
    urls = webhook_urls(integration)
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
                _message(
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


def _message(message: str, *, field: str | None = None) -> dict[str, t.Any]:
    return {"row": None, "field": field, "message": message}


def _errors(errors: t.Sequence[RowError | dict[str, t.Any]], status: int) -> tuple[Response, int]:
    items = [e.as_dict() if isinstance(e, RowError) else e for e in errors]
    return jsonify(errors=items), status


def _json_error(error: HTTPException) -> tuple[Response, int]:
    return _errors([_message(error.description or error.name)], error.code or 500)
