"""The SMS simulator in a real browser, on the example app, with its demo bot."""
from __future__ import annotations

import typing as t

import pytest

from flask_xsms import Pair
from flask_xsms.numbers import replace_bindings

from .browser import ExampleServer
from .browser import FIXTURES
from .browser import OUTPUT_DIR

pytestmark = pytest.mark.browser
example_server, browser, signed_in, context = FIXTURES

CARE_NUMBER = "+14155550100"
CARE_OPTION = f"{CARE_NUMBER} · Acme Care Assistant · Customer Care (production)"
GREETING = "Hello! This is Acme Care Assistant. How can I help you today?"


def expect(target: t.Any) -> t.Any:
    from playwright.sync_api import expect as _expect

    return _expect(target)


@pytest.fixture(scope="module", autouse=True)
def numbers(example_server: ExampleServer) -> None:
    from example_app.host import load_domain

    with example_server.app.app_context():
        replace_bindings(load_domain("1"), [Pair(CARE_NUMBER, "1"), Pair("+14155550101", "2")])
        replace_bindings(load_domain("2"), [Pair("+14155550200", "4")])


def test_a_developer_texts_the_demo_bot(context: t.Any, example_server: ExampleServer) -> None:
    page = context.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Simulator").click()
    expect(page.get_by_role("heading", name="SMS simulator")).to_be_visible()
    page.get_by_label("Twilio number").select_option(label=CARE_OPTION)
    page.get_by_label("Customer number").fill("+14155550177")
    page.get_by_label("Customer number").dispatch_event("change")
    chat = page.get_by_role("log", name="Conversation")
    expect(page.get_by_text("No messages in this conversation yet.")).to_be_visible()

    page.get_by_label("Message").fill("hello")
    page.get_by_role("button", name="Send", exact=True).click()
    customer = chat.locator("[data-xsms-bubble=inbound]")
    bot = chat.locator("[data-xsms-bubble=outbound]")
    expect(customer).to_have_count(1)
    expect(customer.nth(0)).to_contain_text("hello")
    expect(bot).to_have_count(1)
    expect(bot.nth(0)).to_contain_text(GREETING)
    expect(page.get_by_label("Message")).to_have_value("")

    # A long message: the echo comes back split into two messages under 1600 characters.
    long_text = " ".join(f"word{i}" for i in range(400))
    page.get_by_label("Message").fill(long_text)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(bot).to_have_count(3)
    first, second = bot.nth(1).locator(".xsms-bubble-text"), bot.nth(2).locator(".xsms-bubble-text")
    parts = [first.inner_text(), second.inner_text()]
    assert all(len(p) <= 1600 for p in parts)
    assert " ".join(parts) == f"You said: {long_text}"
    expect(bot.nth(1)).to_contain_text("TwiML reply")

    # The Fallback URL answers politely.
    page.get_by_label("Message").fill("are you there?")
    page.get_by_role("button", name="Send to Fallback URL").click()
    expect(bot.nth(3)).to_contain_text("Sorry, we can't answer right now.")
    # ...and the demo bot's answer follows, sent later through the REST API
    expect(bot).to_have_count(5)
    expect(bot.nth(4)).to_contain_text("You said: are you there?")

    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "simulator.png"), full_page=True)

    # Reloaded, the conversation comes back from the stored messages, each once. The
    # Fallback URL's polite answer is not a stored message.
    page.reload()
    page.get_by_label("Twilio number").select_option(label=CARE_OPTION)
    page.get_by_label("Customer number").fill("+14155550177")
    page.get_by_label("Customer number").dispatch_event("change")
    expect(customer).to_have_count(3)
    expect(bot).to_have_count(4)
    expect(bot.nth(0)).to_contain_text(GREETING)
    expect(bot.nth(3)).to_contain_text("You said: are you there?")


def test_the_integrations_panel_opens_the_simulator_on_its_numbers(
    context: t.Any, example_server: ExampleServer
) -> None:
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="Integrations of Sales (Acme, production)").click()
    page.get_by_role("link", name="Simulator").last.click()
    expect(page.get_by_label("Twilio number")).to_have_value("+14155550200")
    page.get_by_label("Message").fill("help")
    page.get_by_label("Message").press("Enter")
    chat = page.get_by_role("log", name="Conversation")
    expect(chat.locator("[data-xsms-bubble=outbound]").first).to_contain_text(
        "This is the X-Platform demo assistant."
    )
