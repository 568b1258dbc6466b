"""The screenshots of the Twilio setup guide, taken on the real example app.

Each test walks an operator's step in chromium and saves a PNG under
``test-output/screenshots/``. ``make screenshots`` (``XSMS_UPDATE_SCREENSHOTS=1``) saves
them into ``docs/_static/screenshots/`` instead, where ``docs/twilio_setup.rst`` shows
them; a plain test run leaves the committed pictures alone.
"""
from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest

from flask_xsms.numbers import PLUS_SIGN_REQUIRED

from .browser import expect
from .browser import ExampleServer
from .browser import FIXTURES

pytestmark = pytest.mark.browser
_, browser, signed_in, context = FIXTURES

if t.TYPE_CHECKING:
    from playwright.sync_api import Locator
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = (
    ROOT / "docs" / "_static" / "screenshots"
    if os.environ.get("XSMS_UPDATE_SCREENSHOTS") == "1"
    else ROOT / "test-output" / "screenshots"
)
VIEWPORT = {"width": 1100, "height": 800}
#: Largest PNG we commit; the docs stay light to clone and to load.
MAX_BYTES = 150_000
CARE = "Integrations of Customer Care (Acme, production)"
SALES = "Integrations of Sales (Acme, production)"
#: What the pictures show as the app's public address and Customer Care's webhook id, so
#: that they look like a deployment and don't change from one run to the next.
PUBLIC_BASE_URL = "https://sms.example.com"
CARE_WEBHOOK_ID = "5f0c3e9a2b7d4c18a6e1f04d9b3c2a71"


@pytest.fixture(scope="module", name="example_server")
def example_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[ExampleServer]:
    """The seeded example app, as the browser tests serve it, with a public base URL."""
    from example_app import create_app
    from example_app import init_database
    from example_app.host import as_xsms_domain
    from example_app.models import db
    from example_app.models import Domain
    from example_app.models import Environment

    from flask_xsms.integrations import create_integration

    database = tmp_path_factory.mktemp("docs") / "example.sqlite"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "XSMS_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        }
    )
    with app.app_context():
        init_database()
        care = db.session.scalar(
            db.select(Domain)
            .join(Environment)
            .filter(Domain.name == "Customer Care", Environment.name == "production")
        )
        integration = create_integration(as_xsms_domain(care))
        assert integration is not None
        integration.webhook_id = CARE_WEBHOOK_ID
        db.session.commit()
    server = ExampleServer(app)
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(name="page")
def page_fixture(context: t.Any) -> Page:
    page: Page = context.new_page()
    page.set_viewport_size(VIEWPORT)
    return page


def save(target: Page | Locator, name: str, **options: t.Any) -> Path:
    """Screenshot ``target`` into the docs and check that it is a small PNG."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    target.screenshot(path=str(path), animations="disabled", caret="hide", **options)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) < MAX_BYTES, f"{name} is {len(data)} bytes"
    return path


def down_to(page: Page, locator: Locator) -> dict[str, float]:
    """A clip of the page from its top down to just below ``locator``."""
    box = locator.bounding_box()
    assert box is not None
    return {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": box["y"] + box["height"] + 24}


def open_settings(page: Page, domain_link: str) -> None:
    page.goto("/")
    page.get_by_role("link", name=domain_link).click()
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    page.get_by_role("link", name="Twilio SMS").click()
    expect(page.get_by_role("heading", name="Twilio SMS")).to_be_visible()
    # The page's script is ready: a click before it would do nothing.
    expect(page.locator("form[data-xsms-settings][data-xsms-ready]")).to_have_count(1)


def test_domain_list(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="IA Domains")).to_be_visible()
    expect(page.get_by_role("link", name=CARE)).to_be_visible()
    save(page, "domain-list.png", clip=down_to(page, page.get_by_role("table")))


def test_integrations_panel(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name=CARE).click()
    panel = page.locator("section.xsms-panel")
    expect(panel.get_by_role("link", name="Twilio SMS")).to_be_visible()
    expect(panel).to_contain_text("0 numbers bound")
    save(page, "integrations-panel.png", clip=down_to(page, panel))


def test_settings_with_two_rows(page: Page) -> None:
    open_settings(page, CARE)
    numbers = page.get_by_label("Phone Number")
    applications = page.get_by_label("Application")
    page.get_by_role("button", name="Add Number").click()
    numbers.nth(0).fill("+1 415 555 0100")
    applications.nth(0).select_option(label="Acme Care Assistant")
    page.get_by_role("button", name="Add Number").click()
    numbers.nth(1).fill("+1 415 555 0101")
    applications.nth(1).select_option(label="Acme Care Agent Helper")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    expect(numbers.nth(0)).to_have_value("+14155550100")
    expect(numbers.nth(1)).to_have_value("+14155550101")
    # Today's page: both Add buttons, and on the demo credentials no failed Twilio check.
    expect(page.get_by_role("button", name="Add Messaging Service")).to_be_visible()
    expect(page.get_by_role("heading", name="Twilio checks are off")).to_be_visible()
    expect(page.get_by_text("Couldn't check")).to_have_count(0)
    save(page, "settings-two-rows.png")


def test_settings_with_the_plus_sign_error(page: Page) -> None:
    open_settings(page, SALES)
    page.get_by_role("button", name="Add Number").click()
    number = page.get_by_label("Phone Number").nth(0)
    number.fill("415 555 0123")
    page.get_by_label("Application").nth(0).select_option(label="Acme Sales Assistant")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(number).to_have_accessible_description(PLUS_SIGN_REQUIRED)
    expect(page.get_by_role("button", name="Add Messaging Service")).to_be_visible()
    save(page, "settings-plus-sign-error.png")


def test_request_and_fallback_urls(page: Page) -> None:
    open_settings(page, CARE)
    request_url = page.get_by_label("Request URL")
    fallback_url = page.get_by_label("Fallback URL")
    hooks = f"{PUBLIC_BASE_URL}/xsms/hooks/{CARE_WEBHOOK_ID}"
    expect(request_url).to_have_value(f"{hooks}/sms")
    expect(fallback_url).to_have_value(f"{hooks}/fallback")
    # From the "Connect the numbers in Twilio" heading down to the Fallback URL's help.
    top = page.get_by_role("heading", name="Connect the numbers in Twilio").bounding_box()
    bottom = page.locator(".xsms-url").nth(1).bounding_box()
    form = page.locator("form.xsms-form").bounding_box()
    assert top and bottom and form
    clip = {
        "x": form["x"] - 8,
        "y": top["y"] - 8,
        "width": form["width"] + 16,
        "height": bottom["y"] + bottom["height"] - top["y"] + 16,
    }
    save(page, "request-fallback-urls.png", full_page=True, clip=clip)


def test_conversations(page: Page, example_server: ExampleServer) -> None:
    """Two customers wrote to Customer Care; an operator takes one conversation over."""
    import re

    from flask_xsms import Pair
    from flask_xsms import _simulator as simulator
    from flask_xsms.numbers import bindable_applications
    from flask_xsms.numbers import bindings_of
    from flask_xsms.numbers import replace_bindings
    from flask_xsms._state import get_state

    app = example_server.app
    with app.test_request_context():
        care = get_state(app).require_domain("1")
        if not bindings_of(care):
            assistant = bindable_applications(care)[0]
            replace_bindings(care, [Pair("+14155550100", assistant.id)])
        binding = simulator.find_number(bindings_of(care)[0].phone_number, domain_id="1")
        for customer, body in [("+14155550123", "Hi, where is my order 1042?"),
                               ("+14155550124", "hello")]:
            assert simulator.simulate_inbound(binding, from_=customer, body=body).ok
    page.goto("/xsms/domains/1/twilio-sms/conversations")
    conversations = page.locator("ol.xsms-cv-list")
    expect(conversations.get_by_role("link", name=re.compile(r"\+14155550123"))).to_be_visible()
    save(page, "conversations.png", clip=down_to(page, conversations))
    conversations.get_by_role("link", name=re.compile(r"\+14155550123")).click()
    page.get_by_role("button", name="Take over").click()
    expect(page.get_by_role("button", name="Hand back")).to_be_visible()
    save(page, "conversation-taken-over.png", clip=down_to(page, page.get_by_label("Reply")))
