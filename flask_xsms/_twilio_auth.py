"""Twilio's request signature: the check every webhook makes before anything else.

Twilio signs each webhook with ``X-Twilio-Signature``, an HMAC of the exact URL it
requested and every form parameter, keyed with the account's Auth Token. The URL is
rebuilt here the way :func:`flask_xsms.integrations.public_url` builds the URLs shown on
the settings page: from ``XSMS_PUBLIC_BASE_URL`` when it is set, otherwise from the
request (scheme and host as Werkzeug's ``ProxyFix`` leaves them).
"""

from __future__ import annotations

import logging
import typing as t

from flask import abort
from flask import current_app
from flask import request
from flask import Response

from . import _diagnostics as diagnostics
from ._twilio_api import SIGNATURE_HEADER
from ._twilio_api import signature_is_valid
from ._twilio_api import validation_url
from ._state import get_state
from .integrations import integration_by_webhook_id
from ._values import Credentials

if t.TYPE_CHECKING:
    from .models import Integration

logger = logging.getLogger("flask_xsms")


def authenticate(webhook_id: str) -> Integration:
    """Check the current webhook request and return the integration it is for.

    In this order: the body is at most ``XSMS_MAX_REQUEST_SIZE`` (else 413); the webhook
    id is known (else 404, nothing written); the signature is Twilio's, made with the
    account's Auth Token, and ``AccountSid`` is the account's SID (else 403 with an empty
    body). With ``XSMS_VALIDATE_SIGNATURES`` off, the last two checks are skipped and a
    warning is logged.

    Database errors while looking up the integration propagate
    (:class:`sqlalchemy.exc.SQLAlchemyError`); see :func:`authenticate_without_database`.
    """
    _read_form()
    integration = integration_by_webhook_id(webhook_id)
    if integration is None:
        abort(404)
    if _skip_validation():
        return integration
    credentials = get_state().credentials(integration.account_id)
    if credentials is None:
        logger.error(
            "Refused a webhook request for IA Domain %r: no Twilio credentials for account %r"
            " (set XSMS_TWILIO_AUTH_TOKEN or register a credentials loader).",
            integration.domain_id,
            integration.account_id,
        )
        _record(integration.id, diagnostics.NO_CREDENTIALS, current_validation_url())
        abort(_forbidden())
    _check(credentials, what=f"IA Domain {integration.domain_id!r}", integration_id=integration.id)
    return integration


def authenticate_without_database() -> None:
    """Check the current webhook request when the integration can't be loaded.

    Only the app-wide credentials (``XSMS_TWILIO_ACCOUNT_SID`` and
    ``XSMS_TWILIO_AUTH_TOKEN``) can be used then; without them the request is refused
    (403), since its signature can't be checked.
    """
    _read_form()
    if _skip_validation():
        return
    config = current_app.config
    if not (config["XSMS_TWILIO_ACCOUNT_SID"] and config["XSMS_TWILIO_AUTH_TOKEN"]):
        logger.error(
            "Refused a webhook request while the database is unavailable: its signature"
            " can only be checked with XSMS_TWILIO_ACCOUNT_SID and XSMS_TWILIO_AUTH_TOKEN."
        )
        abort(_forbidden())
    credentials = Credentials(
        account_sid=config["XSMS_TWILIO_ACCOUNT_SID"],
        auth_token=config["XSMS_TWILIO_AUTH_TOKEN"],
    )
    _check(credentials, what="an unknown IA Domain (database unavailable)")


def current_validation_url() -> str:
    """The URL Twilio must have signed for the current request."""
    return validation_url(
        public_base_url=current_app.config["XSMS_PUBLIC_BASE_URL"],
        scheme=request.scheme,
        host=request.host,
        script_root=request.script_root,
        path=request.path,
        query_string=request.query_string.decode("utf-8", "replace"),
    )


def _read_form() -> None:
    # The limit applies to this request only; reading the form past it raises 413.
    request.max_content_length = current_app.config["XSMS_MAX_REQUEST_SIZE"]
    request.form  # noqa: B018 (parses the body now, so a 413 comes before any lookup)


def _skip_validation() -> bool:
    if current_app.config["XSMS_VALIDATE_SIGNATURES"]:
        return False
    logger.warning(
        "Accepted an unsigned webhook request to %s because XSMS_VALIDATE_SIGNATURES is"
        " False (local development only).",
        request.path,
    )
    return True


def _check(credentials: Credentials, *, what: str, integration_id: int | None = None) -> None:
    """Refuse the request (403) unless Twilio signed it for this account. A refusal is
    recorded for the settings page when the integration is known."""
    url = current_validation_url()
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature_is_valid(credentials.auth_token, url, request.form, signature):
        # Only the URL is logged: it is the usual culprit (proxy, scheme, port).
        logger.warning(
            "Refused a webhook request for %s: %s (checked against %s). See the docs,"
            " 'Webhooks', when Twilio's requests are refused.",
            what,
            "bad signature" if signature else f"no {SIGNATURE_HEADER} header",
            url,
        )
        if integration_id is not None:
            reason = diagnostics.BAD_SIGNATURE if signature else diagnostics.MISSING_SIGNATURE
            _record(integration_id, reason, url, signature, credentials.auth_token)
        abort(_forbidden())
    if request.form.get("AccountSid") != credentials.account_sid:
        logger.warning("Refused a webhook request for %s: AccountSid is not the account's.", what)
        if integration_id is not None:
            _record(integration_id, diagnostics.WRONG_ACCOUNT, url)
        abort(_forbidden())


def _record(
    integration_id: int,
    reason: str,
    url: str,
    signature: str | None = None,
    auth_token: str | None = None,
) -> None:
    diagnostics.record_rejection(
        integration_id,
        reason,
        endpoint=request.path.rsplit("/", 1)[-1],
        validated_url=url,
        headers=request.headers,
        params=request.form,
        signature=signature,
        auth_token=auth_token,
        path=request.path,
    )


def _forbidden() -> Response:
    return Response(b"", status=403, mimetype="text/plain")
