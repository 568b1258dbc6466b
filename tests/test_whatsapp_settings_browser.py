"""An operator binds a WhatsApp sender on the settings page, in a real browser, with Twilio
checks on against the local stand-in."""
from __future__ import annotations

import typing as t

import pytest

from flask_xsms.numbers import bindable_applications
from flask_xsms.numbers import PLUS_SIGN_REQUIRED
from flask_xsms.numbers import replace_bindings

from .browser import browser_fixture
from .browser import context_fixture
from .browser import expect
from .browser import ExampleServer
from .browser import OUTPUT_DIR
from .browser import checking_twilio_fixture
from .browser import example_on_twilio_fixture
from .browser import signed_in_fixture
from .test_browser import _domain
from .test_browser import domain_bindings
from .test_browser import open_settings
from .test_browser import PRODUCTION_CARE
from .test_browser import settings_ready
from .twilio_server import TwilioStandIn

pytestmark = pytest.mark.browser
browser, signed_in, context = browser_fixture, signed_in_fixture, context_fixture
twilio, example_server = checking_twilio_fixture, example_on_twilio_fixture

SENDER = "whatsapp:+14155238886"
WIDTHS = {"phone": 390, "desktop": 1280}




@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_operator_binds_a_whatsapp_sender(
    context: t.Any, example_server: ExampleServer, twilio: TwilioStandIn, width: int
) -> None:
    with example_server.app.app_context():  # each width starts from an empty domain
        replace_bindings(_domain(example_server, "Customer Care", "production"), [])
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    open_settings(page, PRODUCTION_CARE)
    numbers = page.get_by_label("Phone Number")
    expect(numbers).to_have_count(0)
    expect(page.locator("form[data-xsms-settings]")).to_contain_text(
        f"A WhatsApp sender is written as Twilio writes it, {SENDER}."
    )

    # A WhatsApp sender without its +, and a good one beside it.
    page.get_by_role("button", name="Add Number").click()
    numbers.nth(0).fill("whatsapp:415 523 8886")
    page.get_by_label("Application").nth(0).select_option(label="Acme Care Assistant")
    page.get_by_role("button", name="Add Number").click()
    numbers.nth(1).fill("WhatsApp: +1 415 523 8887")
    page.get_by_label("Application").nth(1).select_option(label="Acme Care Agent Helper")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(numbers.nth(0)).to_have_value("whatsapp:415 523 8886")
    expect(numbers.nth(0)).to_have_accessible_description(PLUS_SIGN_REQUIRED)
    expect(numbers.nth(0)).to_be_focused()
    error = page.locator("[data-xsms-row]").nth(0).get_by_text(PLUS_SIGN_REQUIRED)
    expect(error).to_be_visible()
    field, said = numbers.nth(0).bounding_box(), error.bounding_box()
    assert field and said and 0 <= said["y"] - (field["y"] + field["height"]) < 40  # under it
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"settings-whatsapp-error-{width}.png"), full_page=True)
    assert domain_bindings(example_server, "Customer Care", "production") == []

    # The operator types the sender as Twilio shows it, with spaces.
    numbers.nth(0).fill("whatsapp:+1 415 523 8886")
    page.get_by_role("button", name="Delete").nth(1).click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    settings_ready(page)
    expect(numbers).to_have_count(1)
    expect(numbers.nth(0)).to_have_value(SENDER)
    assert domain_bindings(example_server, "Customer Care", "production") == [
        (SENDER, "Acme Care Assistant")
    ]

    # Check in Twilio says where it is configured instead, with no button to configure it.
    row = page.locator("[data-xsms-row]").nth(0)
    expect(row).to_contain_text("Set in the Twilio console, not from here")
    expect(row.get_by_role("button", name="Configure in Twilio")).to_be_hidden()
    expect(page.get_by_text("Twilio: 1 to set in the Twilio console.")).to_be_visible()
    expect(page.get_by_role("button", name="Configure all in Twilio")).to_be_disabled()
    assert not [r for r in twilio.requests if "whatsapp" in str(r.query) + r.path]
    assert twilio.number_updates == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    page.screenshot(path=str(OUTPUT_DIR / f"settings-whatsapp-saved-{width}.png"), full_page=True)


def test_a_messaging_service_offers_no_configure_button_either(
    context: t.Any, example_server: ExampleServer, twilio: TwilioStandIn
) -> None:
    from flask_xsms import Pair

    service = "MG" + "0123456789abcdef" * 2
    with example_server.app.app_context():
        care = _domain(example_server, "Customer Care", "production")
        application = next(a for a in bindable_applications(care) if "Care Assistant" in a.name)
        replace_bindings(care, [Pair(service, application.id)])
    page = context.new_page()
    open_settings(page, PRODUCTION_CARE)
    settings_ready(page)
    row = page.locator("[data-xsms-row]").nth(0)
    expect(row).to_contain_text("not supported for Messaging Services")
    expect(row.get_by_role("button", name="Configure in Twilio")).to_be_hidden()
    expect(page.get_by_text("Twilio: 1 to set in the Twilio console.")).to_be_visible()
    expect(page.get_by_role("button", name="Configure all in Twilio")).to_be_disabled()
