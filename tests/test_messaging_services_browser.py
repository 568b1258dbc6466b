"""An operator binds a Messaging Service on the settings page, in a real browser."""
from __future__ import annotations

import typing as t

import pytest

from .browser import expect
from .browser import FIXTURES
from .browser import ExampleServer
from .test_browser import domain_bindings
from .test_browser import open_settings
from .test_browser import SALES

pytestmark = pytest.mark.browser
example_server, browser, signed_in, context = FIXTURES

SERVICE = "MG" + "ab12" * 8


def test_add_a_messaging_service_save_and_see_it_again(
    context: t.Any, example_server: ExampleServer
) -> None:
    page = context.new_page()
    open_settings(page, SALES)
    page.get_by_role("button", name="Add Messaging Service").click()
    sid = page.get_by_label("Messaging Service SID")
    expect(sid).to_be_focused()
    sid.fill("MG123")
    page.get_by_label("Application").last.select_option(index=1)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("MG123 is not a Messaging Service SID")).to_be_visible()
    assert domain_bindings(example_server, "Sales", "production") == []

    page.get_by_label("Messaging Service SID").fill(SERVICE.upper())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Messaging Service SID")).to_have_value(SERVICE)
    [(number, _)] = domain_bindings(example_server, "Sales", "production")
    assert number == SERVICE
