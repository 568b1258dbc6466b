"""The SMS simulator in a real browser, on the example app, with its demo bot."""
from __future__ import annotations

import typing as t

import pytest

from flask_xsms import Pair
from flask_xsms import _simulator as simulator
from flask_xsms.numbers import replace_bindings

from .browser import expect
from .browser import ExampleServer
from .browser import FIXTURES
from .browser import room_in_select
from .browser import OUTPUT_DIR

pytestmark = pytest.mark.browser
example_server, browser, signed_in, context = FIXTURES

CARE_NUMBER = "+14155550100"
CARE_OPTION = f"{CARE_NUMBER} · Acme Care Assistant"
WIDTHS = {"phone": 390, "desktop": 1280}
GREETING = "Hello! This is Acme Care Assistant. How can I help you today?"


@pytest.fixture(scope="module", autouse=True)
def numbers(example_server: ExampleServer) -> None:
    from example_app.host import load_domain

    with example_server.app.app_context():
        replace_bindings(load_domain("1"), [Pair(CARE_NUMBER, "1"), Pair("+14155550101", "2")])
        replace_bindings(load_domain("2"), [Pair("+14155550200", "4")])


def simulator_ready(page: t.Any) -> None:
    """Wait for the simulator's script: a message sent before it would reload the page."""
    expect(page.locator("[data-xsms-simulator][data-xsms-ready]")).to_have_count(1)


def test_a_developer_texts_the_demo_bot(context: t.Any, example_server: ExampleServer) -> None:
    page = context.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Simulator").click()
    expect(page.get_by_role("heading", name="SMS simulator")).to_be_visible()
    simulator_ready(page)
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
    simulator_ready(page)
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
    simulator_ready(page)
    page.get_by_label("Message").fill("help")
    page.get_by_label("Message").press("Enter")
    chat = page.get_by_role("log", name="Conversation")
    expect(chat.locator("[data-xsms-bubble=outbound]").first).to_contain_text(
        "This is the X-Platform demo assistant."
    )


def open_simulator(page: t.Any, width: int, customer: str) -> t.Any:
    """The simulator on Customer Care's first number, for ``customer``; the conversation."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/xsms/simulator?domain=1")
    expect(page.get_by_role("heading", name="SMS simulator")).to_be_visible()
    expect(page.get_by_label("Twilio number")).to_have_value(CARE_NUMBER)
    simulator_ready(page)
    page.get_by_label("Customer number").fill(customer)
    page.get_by_label("Customer number").dispatch_event("change")
    return page.get_by_role("log", name="Conversation")


def send(page: t.Any, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_label("Message")).to_have_value("")


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_stop_start_and_help_say_what_happened(context: t.Any, width: int) -> None:
    page = context.new_page()
    chat = open_simulator(page, width, f"+1415555{width:04d}")
    # No messages yet: the words sit inside the conversation's frame, not under it.
    empty = page.get_by_text("No messages in this conversation yet.")
    expect(empty).to_be_visible()
    frame, line = page.locator("[data-xsms-chat-frame]").bounding_box(), empty.bounding_box()
    assert frame and line
    assert frame["y"] < line["y"] and line["y"] + line["height"] < frame["y"] + frame["height"]

    notes = chat.locator("[data-xsms-note]")
    bot = chat.locator("[data-xsms-bubble=outbound]")
    send(page, "STOP")
    expect(notes).to_have_count(1)
    expect(notes.nth(0)).to_have_text(simulator.OPTED_OUT_NOTE)
    expect(notes.nth(0)).to_be_in_viewport()
    expect(empty).to_be_hidden()
    send(page, "hello")
    expect(notes).to_have_count(2)
    expect(notes.nth(1)).to_have_text(simulator.BLOCKED_NOTE)
    send(page, "HELP")
    expect(notes.nth(2)).to_have_text(simulator.HELP_NOTE)
    expect(bot.last).to_contain_text("This is the X-Platform demo assistant.")
    send(page, "START")
    expect(notes.nth(3)).to_have_text(simulator.OPTED_IN_NOTE)
    expect(bot.last).to_contain_text("You said: START")
    assert bot.count() == 2  # nothing answered STOP or the message after it
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width

    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"simulator-opt-out-{width}.png"), full_page=True)

    # Opened again, the conversation says the same.
    page.reload()
    chat = open_simulator(page, width, f"+1415555{width:04d}")
    expect(chat.locator("[data-xsms-note]")).to_have_text(
        [simulator.OPTED_OUT_NOTE, simulator.BLOCKED_NOTE, simulator.HELP_NOTE,
         simulator.OPTED_IN_NOTE]
    )


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_number_reads_in_full_and_the_message_counts_segments(
    context: t.Any, width: int
) -> None:
    page = context.new_page()
    open_simulator(page, width, "+14155550166")
    select = page.get_by_label("Twilio number")
    # The chosen option's text fits the closed dropdown (its arrow takes about 2rem).
    room = room_in_select(select)
    assert room >= 0, f"the option is {-room:.0f} px too wide"

    counter = page.locator("[data-xsms-sim-segments]")
    message = page.get_by_label("Message")
    expect(message).to_have_accessible_description("0 characters · 1 segment (GSM-7)")
    message.fill("a" * 160)
    expect(counter).to_have_text("160 characters · 1 segment (GSM-7)")
    message.fill("a" * 161)
    expect(counter).to_have_text("161 characters · 2 segments (GSM-7)")
    message.fill("{" * 80)  # GSM-7 extension characters take two
    expect(counter).to_have_text("80 characters · 1 segment (GSM-7)")
    message.fill("Ça va? 😀" * 8)
    expect(counter).to_have_text("64 characters · 2 segments (UCS-2)")
    box, counted = message.bounding_box(), counter.bounding_box()
    assert box and counted and 0 <= counted["y"] - (box["y"] + box["height"]) < 24
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"simulator-compose-{width}.png"), full_page=True)
