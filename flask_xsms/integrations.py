"""The integration record of each IA Domain: its opaque webhook id."""
from __future__ import annotations

__all__ = [
    "integration_for",
    "create_integration",
    "webhook_urls",
    "WebhookURLs",
]

import dataclasses
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import has_request_context
from flask import url_for
from sqlalchemy.exc import IntegrityError

from ._state import get_state
from .models import Integration
from ._values import Domain
def integration_for(domain: Domain) -> Integration | None:
    """The integration of ``domain``, or ``None`` before :func:`create_integration`.

    Only reads: a domain gets its integration (and webhook URLs) explicitly.
    """
    return get_state().session.scalar(sa.select(Integration).filter_by(domain_id=domain.id))


def create_integration(domain: Domain) -> Integration:
    """The integration of ``domain``, created (with its webhook id) if it has none yet, and
    kept in step with the domain's account and environment. Commits when it changes
    anything (see :doc:`database`, *Who commits*).

    The settings page and the JSON API call it, so that a domain's first visit shows its
    webhook URLs; saving numbers calls it too.
    """
    session = get_state().session
    integration = integration_for(domain)
    if integration is None:
        integration = Integration(
            domain_id=domain.id, account_id=domain.account_id, environment=domain.environment
        )
        session.add(integration)
        try:
            session.commit()
        except IntegrityError:  # created at the same moment by another request
            session.rollback()
            integration = integration_for(domain)
            assert integration is not None
    elif (integration.account_id, integration.environment) != (
        domain.account_id,
        domain.environment,
    ):
        integration.account_id = domain.account_id
        integration.environment = domain.environment
        for binding in integration.bindings:
            binding.account_id = domain.account_id
            binding.environment = domain.environment
        session.commit()
    return integration


_BY_WEBHOOK_ID = sa.select(Integration).where(Integration.webhook_id == sa.bindparam("webhook_id"))


def integration_by_webhook_id(webhook_id: str) -> Integration | None:
    """The integration whose webhook URLs carry ``webhook_id``, or ``None``."""
    # Built once: every webhook request runs it.
    return get_state().session.scalar(_BY_WEBHOOK_ID, {"webhook_id": webhook_id})


@dataclasses.dataclass(frozen=True)
class WebhookURLs:
    """The absolute URLs of a domain's webhooks, as Twilio must call them."""

    request_url: str
    fallback_url: str
    status_callback_url: str


#: Endpoint of each webhook in the ``xsms_webhooks`` blueprint.
WEBHOOK_ENDPOINTS = {
    "request_url": "xsms_webhooks.inbound",
    "fallback_url": "xsms_webhooks.fallback",
    "status_callback_url": "xsms_webhooks.status",
}


def public_url(endpoint: str, *, relative_if_unknown: bool = False, **values: t.Any) -> str:
    """The absolute URL of ``endpoint`` as Twilio reaches it: the one place URLs are built.

    With ``XSMS_PUBLIC_BASE_URL`` set, that base plus the route's path within the app;
    otherwise Flask's external URL of the current request (or ``SERVER_NAME``). Outside a
    request with neither, raises ``RuntimeError`` (or, with ``relative_if_unknown``,
    returns the path alone).
    """
    base = current_app.config["XSMS_PUBLIC_BASE_URL"]
    if base:
        return base.rstrip("/") + _route_path(endpoint, values)
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    if relative_if_unknown:
        return (current_app.config.get("APPLICATION_ROOT") or "/").rstrip("/") + _route_path(
            endpoint, values
        )
    raise RuntimeError(
        "flask-xsms cannot tell the public URL of its webhooks outside a request."
        " Set XSMS_PUBLIC_BASE_URL (e.g. 'https://sms.example.com')."
    )


def _route_path(endpoint: str, values: dict[str, t.Any]) -> str:
    """The route's path within the app, whatever the request's script root."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def webhook_urls(integration: Integration, *, relative_if_unknown: bool = False) -> WebhookURLs:
    """The Request URL, Fallback URL and status-callback URL of ``integration``.

    See :func:`public_url` for where the scheme and host come from.
    """
    return WebhookURLs(
        **{
            name: public_url(
                endpoint, relative_if_unknown=relative_if_unknown, webhook_id=integration.webhook_id
            )
            for name, endpoint in WEBHOOK_ENDPOINTS.items()
        }
    )
