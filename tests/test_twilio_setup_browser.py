"""Configure in Twilio from the settings page, in a real browser, against the stand-in."""
from __future__ import annotations

import typing as t

import pytest

from .browser import expect
from .browser import browser_fixture
from .browser import context_fixture
from .browser import checking_twilio_fixture
from .browser import example_on_twilio_fixture
from .browser import signed_in_fixture
from .signing import AUTH_TOKEN
from .browser import OUTPUT_DIR
from .test_browser import in_viewport
from .test_browser import open_settings
from .test_browser import PRODUCTION_CARE
from .test_browser import SALES
from .test_browser import settings_ready
from .test_browser import STAGING_CARE
from .twilio_server import TwilioStandIn

pytestmark = pytest.mark.browser
browser, signed_in, context = browser_fixture, signed_in_fixture, context_fixture
twilio, example_server = checking_twilio_fixture, example_on_twilio_fixture

OLD_URL = "https://old.example.com/sms"




def bind(page: t.Any, number: str, application: str) -> None:
    page.get_by_role("button", name="Add Number").click()
    page.get_by_label("Phone Number").last.fill(number)
    page.get_by_label("Application").last.select_option(label=application)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    settings_ready(page)


def row_of(page: t.Any, number: str) -> t.Any:
    return page.locator("[data-xsms-row]").filter(
        has=page.locator(f"input[value='{number}']")
    )


def test_bind_a_number_and_configure_it_in_twilio(
    context: t.Any, twilio: TwilioStandIn
) -> None:
    twilio.add_number("+14155550100", sms_url=OLD_URL, sms_method="GET")
    page = context.new_page()
    dialogs: list[str] = []

    def answer(dialog: t.Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept() if len(dialogs) > 1 else dialog.dismiss()

    page.on("dialog", answer)
    open_settings(page, PRODUCTION_CARE)
    expect(page.get_by_text("No saved numbers to check in Twilio.")).to_be_visible()
    bind(page, "+1 415 555 0100", "Acme Care Assistant")

    row = row_of(page, "+14155550100")
    expect(row).to_contain_text(f"Not configured: its SMS URL points to {OLD_URL}")
    expect(row).to_contain_text("its fallback URL is empty")
    button = row.get_by_role("button", name="Configure in Twilio")

    # The confirmation names what it overwrites; dismissing it changes nothing.
    button.click()
    assert len(dialogs) == 1
    assert "Configure +14155550100 in Twilio?" in dialogs[0]
    assert f"SMS URL {OLD_URL}, fallback URL (empty)" in dialogs[0]
    assert twilio.number_updates == []

    button.click()
    expect(row).to_contain_text("Configured: Twilio sends its messages to this IA Domain.")
    expect(button).to_be_hidden()
    # The outcome is told in the row, where the button was, and to screen readers.
    expect(row.get_by_role("status")).to_have_text("+14155550100 is configured in Twilio.")
    expect(row.get_by_role("status")).to_be_in_viewport()
    expect(row.get_by_role("status")).to_be_focused()

    request_url = page.get_by_role("textbox", name="Request URL").input_value()
    fallback_url = page.get_by_role("textbox", name="Fallback URL").input_value()
    number = twilio.number("+14155550100")
    assert number is not None
    assert (number["sms_url"], number["sms_method"]) == (request_url, "POST")
    assert (number["sms_fallback_url"], number["sms_fallback_method"]) == (fallback_url, "POST")
    assert request_url.startswith("http://127.0.0.1:") and request_url.endswith("/sms")

    # After a reload the page checks Twilio again and still says so.
    page.reload()
    expect(row_of(page, "+14155550100")).to_contain_text("Configured:")


def test_configure_all_skips_numbers_twilio_does_not_have(
    context: t.Any, twilio: TwilioStandIn
) -> None:
    twilio.add_number("+14155550200")
    twilio.add_number("+14155550201", sms_url=OLD_URL, sms_fallback_url=OLD_URL + "/fallback")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    open_settings(page, SALES)
    bind(page, "+14155550200", "Acme Sales Assistant")
    bind(page, "+14155550201", "Acme Sales Agent Helper")
    bind(page, "+14155550299", "Acme Sales Assistant")

    expect(row_of(page, "+14155550299")).to_contain_text("Not in this Twilio account.")
    missing = row_of(page, "+14155550299").get_by_role("button", name="Configure in Twilio")
    expect(missing).to_be_hidden()
    summary = page.get_by_text("Twilio: 2 not configured, 1 not in this Twilio account.")
    expect(summary).to_be_visible()
    # A row being edited is not a saved number any more.
    page.get_by_label("Phone Number").nth(0).fill("+14155550222")
    expect(page.locator("[data-xsms-row]").nth(0)).to_contain_text(
        "Save this number to check it in Twilio."
    )
    page.get_by_label("Phone Number").nth(0).fill("+14155550200")

    page.get_by_role("button", name="Configure all in Twilio").click()
    expect(page.get_by_text("All 2 numbers are configured in Twilio.")).to_be_visible()
    expect(row_of(page, "+14155550201")).to_contain_text("Configured:")
    expect(row_of(page, "+14155550200")).to_contain_text("Configured:")
    expect(row_of(page, "+14155550299")).to_contain_text("Not in this Twilio account.")
    assert len(dialogs) == 1
    assert "Configure 2 numbers in Twilio?" in dialogs[0]
    assert "+14155550200: SMS URL (empty), fallback URL (empty)" in dialogs[0]
    assert f"+14155550201: SMS URL {OLD_URL}, fallback URL {OLD_URL}/fallback" in dialogs[0]
    fallback_url = page.get_by_role("textbox", name="Fallback URL").input_value()
    assert twilio.number("+14155550201")["sms_fallback_url"] == fallback_url  # type: ignore[index]
    expect(page.get_by_role("button", name="Configure all in Twilio")).to_be_disabled()


def test_twilio_errors_show_on_the_row(context: t.Any, twilio: TwilioStandIn) -> None:
    page = context.new_page()
    open_settings(page, SALES)
    # The page checked Twilio once by itself.
    expect(row_of(page, "+14155550200")).to_contain_text("Configured:")
    twilio.fail(20429, 429, "Too Many Requests")
    page.get_by_role("button", name="Check in Twilio").click()
    for number in ("+14155550200", "+14155550201", "+14155550299"):
        expect(row_of(page, number)).to_contain_text(
            "Couldn't check: Twilio is limiting the rate of requests (HTTP 429, error 20429)."
        )
    assert AUTH_TOKEN not in page.content()
    page.get_by_role("button", name="Check in Twilio").click()
    expect(row_of(page, "+14155550200")).to_contain_text("Configured:")


def test_configure_in_twilio_answers_in_the_row_on_a_phone(
    context: t.Any, twilio: TwilioStandIn
) -> None:
    twilio.add_number("+14155550300", sms_url=OLD_URL)
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    page.on("dialog", lambda dialog: dialog.accept())
    open_settings(page, STAGING_CARE)
    bind(page, "+14155550300", "Acme Care Staging Assistant")
    row = row_of(page, "+14155550300")
    button = row.get_by_role("button", name="Configure in Twilio")
    expect(row).to_contain_text("Not configured:")
    button.click()
    answer = row.get_by_role("status")
    expect(answer).to_have_text("+14155550300 is configured in Twilio.")
    assert in_viewport(page, answer.bounding_box())
    number = page.get_by_label("Phone Number").last.bounding_box()
    box = answer.bounding_box()
    assert number and box and 0 < box["y"] - number["y"] < 250  # in the number's own row
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "settings-configured-390.png"))
    # Checking again clears the answer: the row's state says the rest.
    page.get_by_role("button", name="Check in Twilio").click()
    expect(answer).to_have_text("")
    expect(row).to_contain_text("Configured:")
