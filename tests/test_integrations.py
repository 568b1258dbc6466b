from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_xsms import Domain
from flask_xsms import Pair
from flask_xsms._extension import get_state
from flask_xsms.models import Integration
from flask_xsms.integrations import integration_by_webhook_id
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import integration_for
from flask_xsms.integrations import webhook_urls
from flask_xsms.numbers import bindings_of
from flask_xsms.numbers import replace_bindings

from .hostapp import Directory


def test_each_domain_gets_one_opaque_webhook_id(app: Flask, directory: Directory) -> None:
    first = create_integration(directory.domains["1"])
    again = create_integration(directory.domains["1"])
    other = create_integration(directory.domains["2"])
    assert first.id == again.id
    assert re.fullmatch(r"[0-9a-f]{32}", first.webhook_id)  # 128 random bits, not a row number
    assert first.webhook_id != other.webhook_id
    assert integration_by_webhook_id(first.webhook_id).domain_id == "1"
    assert integration_by_webhook_id("0" * 32) is None


def test_reading_never_creates_an_integration(app: Flask, directory: Directory) -> None:
    assert integration_for(directory.domains["1"]) is None
    assert integration_for(directory.domains["1"]) is None
    created = create_integration(directory.domains["1"])
    assert integration_for(directory.domains["1"]).id == created.id


def test_only_the_settings_page_and_saves_create_an_integration(
    app: Flask, directory: Directory
) -> None:
    session = get_state(app).session
    client = app.test_client()

    def integrations() -> int:
        session.rollback()
        return session.scalar(sa.select(sa.func.count()).select_from(Integration))

    for page in ("messages", "conversations"):
        assert client.get(f"/xsms/domains/1/twilio-sms/{page}").status_code == 200
    assert integrations() == 0  # pages that only read write nothing
    assert client.get("/xsms/domains/1/twilio-sms").status_code == 200
    assert integrations() == 1  # the first visit of the settings page makes its URLs
    client.get("/xsms/domains/1/twilio-sms")
    assert integrations() == 1


def test_a_domain_moved_to_another_environment_moves_its_bindings(
    app: Flask, directory: Directory
) -> None:
    replace_bindings(directory.domains["1"], [Pair("+14155550100", "11")])
    moved = directory.add(Domain("1", "Customer Care", "acme", "staging"), *directory.applications["1"])
    integration = create_integration(moved)
    assert (integration.account_id, integration.environment) == ("acme", "staging")
    assert [b.environment for b in bindings_of(moved)] == ["staging"]


def test_urls_come_from_the_request(app: Flask, directory: Directory) -> None:
    integration = create_integration(directory.domains["1"])
    with app.test_request_context("/", base_url="https://care.example.com"):
        urls = webhook_urls(integration)
    hook = integration.webhook_id
    assert urls.request_url == f"https://care.example.com/xsms/hooks/{hook}/sms"
    assert urls.fallback_url == f"https://care.example.com/xsms/hooks/{hook}/fallback"
    assert urls.status_callback_url == f"https://care.example.com/xsms/hooks/{hook}/status"


@pytest.mark.parametrize("base", ["https://sms.example.com", "https://sms.example.com/"])
def test_public_base_url_wins_over_the_request(
    app: Flask, directory: Directory, base: str
) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = base
    integration = create_integration(directory.domains["1"])
    expected = f"https://sms.example.com/xsms/hooks/{integration.webhook_id}/sms"
    # behind a proxy the app sees an internal host and a script root of its own
    with app.test_request_context("/", base_url="http://10.0.0.5:8000/internal"):
        assert webhook_urls(integration).request_url == expected
    with app.app_context():
        assert webhook_urls(integration).request_url == expected


def test_outside_a_request_the_url_needs_configuration(app: Flask, directory: Directory) -> None:
    hook = create_integration(directory.domains["1"]).webhook_id
    seen: list[object] = []

    def cli_like() -> None:  # a thread of its own has no request context, like the CLI
        with app.app_context():
            integration = integration_by_webhook_id(hook)
            try:
                webhook_urls(integration)
            except RuntimeError as e:
                seen.append(str(e))
            seen.append(webhook_urls(integration, relative_if_unknown=True).request_url)
        app.config.update(SERVER_NAME="sms.example.org", PREFERRED_URL_SCHEME="https")
        with app.app_context():
            seen.append(webhook_urls(integration_by_webhook_id(hook)).request_url)

    thread = threading.Thread(target=cli_like)
    thread.start()
    thread.join(10)
    assert seen == [
        "flask-xsms cannot tell the public URL of its webhooks outside a request."
        " Set XSMS_PUBLIC_BASE_URL (e.g. 'https://sms.example.com').",
        f"/xsms/hooks/{hook}/sms",
        f"https://sms.example.org/xsms/hooks/{hook}/sms",
    ]
