"""What the extension's pages and JSON views share: reading a page number, and JSON
error answers (``{"errors": [...]}`` for the JSON API, ``{"error": ...}`` for the pages'
own JSON endpoints). Views import this module; it imports no view."""
from __future__ import annotations

import typing as t

from flask import abort
from flask import jsonify
from werkzeug.wrappers import Response

from .errors import RowError

# Enough digits for any page of any database; more is past the last page.
_MAX_PAGE_DIGITS = 18


def page_number(raw: str | None, not_a_page: str) -> int:
    """The page a ``page`` query argument asks for (none: 1); 404 with ``not_a_page``
    unless a whole number from 1 written in digits."""
    if raw is None:
        return 1
    digits = raw.lstrip("0")
    if not (raw.isascii() and raw.isdigit()) or not digits:
        abort(404, not_a_page)
    # More digits than any database's page has: past the last page.
    return int(digits) if len(digits) <= _MAX_PAGE_DIGITS else 10**_MAX_PAGE_DIGITS


def error_item(message: str, *, field: str | None = None) -> dict[str, t.Any]:
    """One error of a JSON answer that is about no row."""
    return {"row": None, "field": field, "message": message}


def json_error(message: str, status: int, **extra: t.Any) -> tuple[Response, int]:
    """The JSON answer ``{"error": message, ...}`` of the pages' own JSON endpoints (the
    simulator, the Twilio checks, the conversation threads), with ``status``."""
    return jsonify(error=message, **extra), status


def json_errors(
    errors: t.Sequence[RowError | dict[str, t.Any]], status: int
) -> tuple[Response, int]:
    """The JSON answer ``{"errors": [...]}`` of the API, with ``status``."""
    items = [e.as_dict() if isinstance(e, RowError) else e for e in errors]
    return jsonify(errors=items), status
