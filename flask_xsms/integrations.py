"""The integration record of each IA Domain: its opaque webhook id."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .extension import get_state
from .models import Integration
from .types import Domain


def integration_for(domain: Domain, *, create: bool = True) -> Integration | None:
    """The integration of ``domain``; created (and committed) on first use when ``create``.

    Keeps the integration's account and environment in step with the host's domain.
    """
    session = get_state().session
    integration = session.scalar(sa.select(Integration).filter_by(domain_id=domain.id))
    if integration is None:
        if not create:
            return None
        integration = Integration(
            domain_id=domain.id, account_id=domain.account_id, environment=domain.environment
        )
        session.add(integration)
        try:
            session.commit()
        except IntegrityError:  # created at the same moment by another request
            session.rollback()
            integration = session.scalar(sa.select(Integration).filter_by(domain_id=domain.id))
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


def integration_by_webhook_id(webhook_id: str) -> Integration | None:
    """The integration whose webhook URLs carry ``webhook_id``, or ``None``."""
    return get_state().session.scalar(sa.select(Integration).filter_by(webhook_id=webhook_id))
