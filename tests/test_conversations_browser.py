"""Conversations in a real browser, on the example app: an operator takes a conversation
over while the customer texts through the SMS simulator, answers, and hands it back."""
from __future__ import annotations

import typing as t

import pytest

from flask_xsms import Pair
from flask_xsms import _simulator as simulator
from flask_xsms._conversation_views import HANDED_BACK_MESSAGE
from flask_xsms._conversation_views import SENT_MESSAGE
from flask_xsms._conversation_views import TAKEN_OVER_MESSAGE
from flask_xsms.numbers import replace_bindings

from .browser import expect
from .browser import ExampleServer
from .browser import FIXTURES
from .browser import OUTPUT_DIR
from .browser import serve_example
from .browser import serve_twilio
from .twilio_server import TwilioStandIn

pytestmark = pytest.mark.browser
_, browser, signed_in, context = FIXTURES

CARE_NUMBER = "+14155550100"
WIDTHS = {"phone": 390, "desktop": 1280}
LIST = "/xsms/domains/1/twilio-sms/conversations"
#: Marks a page; a reload forgets it.
MARK = "window.xsmsNotReloaded = true"
MARKED = "window.xsmsNotReloaded === true"


@pytest.fixture(scope="module")
def twilio() -> t.Iterator[TwilioStandIn]:
    """Twilio's REST API for the operators' replies (the demo credentials reach no Twilio)."""
    yield from serve_twilio()


@pytest.fixture(scope="module")
def example_server(
    tmp_path_factory: pytest.TempPathFactory, twilio: TwilioStandIn
) -> t.Iterator[ExampleServer]:
    """The example app, its Customer Care number bound, sending through the stand-in."""
    from example_app.host import load_domain

    for server in serve_example(tmp_path_factory, XSMS_TWILIO_API_BASE_URL=twilio.url):
        with server.app.app_context():
            replace_bindings(load_domain("1"), [Pair(CARE_NUMBER, "1")])
        yield server


def open_simulator(page: t.Any, customer: str) -> t.Any:
    """The simulator on Customer Care's number, for ``customer``; its conversation."""
    page.goto("/xsms/simulator?domain=1")
    expect(page.get_by_label("Twilio number")).to_have_value(CARE_NUMBER)
    expect(page.locator("[data-xsms-simulator][data-xsms-ready]")).to_have_count(1)
    page.get_by_label("Customer number").fill(customer)
    page.get_by_label("Customer number").dispatch_event("change")
    return page.get_by_role("log", name="Conversation")


def text(page: t.Any, body: str) -> None:
    """The customer sends ``body`` from the simulator."""
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_label("Message")).to_have_value("")


def open_conversation(page: t.Any, customer: str) -> t.Any:
    """From the list, the conversation with ``customer``; its thread."""
    page.goto(LIST)
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    page.get_by_role("link", name=customer).click()
    expect(page.get_by_role("heading", name=f"Conversation with {customer}")).to_be_visible()
    return page.get_by_role("log", name="Messages, oldest first")


def script_ready(page: t.Any) -> None:
    expect(page.locator("[data-xsms-conversation][data-xsms-ready]")).to_have_count(1)


def test_an_operator_takes_over_answers_and_hands_back(
    context: t.Any, twilio: TwilioStandIn
) -> None:
    customer_number = "+14155550188"
    customer = context.new_page()
    chat = open_simulator(customer, customer_number)
    to_customer = chat.locator("[data-xsms-bubble=outbound]")
    text(customer, "hello")
    expect(to_customer).to_have_count(1)

    operator = context.new_page()
    thread = open_conversation(operator, customer_number)
    expect(thread.locator("[data-xsms-bubble]")).to_have_count(2)
    expect(operator.locator("[data-xsms-state]")).to_have_text("Bot")
    expect(operator.get_by_role("button", name="Hand back")).to_be_hidden()
    operator.get_by_role("button", name="Take over").click()
    expect(operator.get_by_text(TAKEN_OVER_MESSAGE)).to_be_visible()
    expect(operator.locator("[data-xsms-state]")).to_have_text("Agent: demo@example.com")
    expect(operator.get_by_role("button", name="Take over")).to_be_hidden()
    script_ready(operator)
    operator.evaluate(MARK)

    # The customer texts: the operator's page shows it without a reload; no chatbot answers.
    text(customer, "I would like to talk to a person")
    from_customer = thread.locator("[data-xsms-bubble=customer]")
    expect(from_customer).to_have_count(2)
    expect(from_customer.last).to_contain_text("I would like to talk to a person")
    expect(from_customer.last.locator("[data-xsms-sender]")).to_have_text("Customer")
    expect(from_customer.last.locator("[data-xsms-status-words]")).to_have_text("Received")
    assert operator.evaluate(MARKED)

    operator.get_by_label("Reply").fill("Hi, this is a person. How can I help?")
    operator.get_by_role("button", name="Send", exact=True).click()
    expect(operator.get_by_text(SENT_MESSAGE)).to_be_visible()
    mine = thread.locator("[data-xsms-bubble=operator]")
    expect(mine).to_have_count(1)
    expect(mine.locator("[data-xsms-sender]")).to_have_text("demo@example.com (operator)")
    expect(mine).to_contain_text("Hi, this is a person. How can I help?")
    expect(mine).to_contain_text("Queued at Twilio")
    expect(operator.get_by_label("Reply")).to_have_value("")
    assert [r.form["Body"] for r in twilio.messages] == ["Hi, this is a person. How can I help?"]
    # The customer gets it; the chatbot was not called (the demo bot echoes "You said: …").
    expect(to_customer).to_have_count(2)
    expect(to_customer.last).to_contain_text("Hi, this is a person.")
    expect(chat.get_by_text("You said:")).to_have_count(0)
    expect(thread.get_by_text("You said:")).to_have_count(0)

    # Twilio reports the delivery: the operator's page shows it without a reload. (The
    # simulator offers the report once the reply has Twilio's sid: shown again, it has.)
    script_ready(operator)
    operator.evaluate(MARK)
    chat = open_simulator(customer, customer_number)
    to_customer = chat.locator("[data-xsms-bubble=outbound]")
    expect(to_customer).to_have_count(2)
    to_customer.last.get_by_label("Delivery status").select_option("delivered")
    to_customer.last.get_by_role("button", name="Report").click()
    expect(mine.locator("[data-xsms-status-words]")).to_have_text("Delivered")
    assert operator.evaluate(MARKED)
    OUTPUT_DIR.mkdir(exist_ok=True)
    operator.screenshot(path=str(OUTPUT_DIR / "conversation-taken-over.png"), full_page=True)

    operator.get_by_role("button", name="Hand back").click()
    expect(operator.get_by_text(HANDED_BACK_MESSAGE)).to_be_visible()
    expect(operator.locator("[data-xsms-state]")).to_have_text("Bot")
    script_ready(operator)
    operator.evaluate(MARK)
    text(customer, "thanks, bye")
    expect(to_customer.last).to_contain_text("You said: thanks, bye")
    bot = thread.locator("[data-xsms-bubble=bot]")
    expect(bot.last).to_contain_text("You said: thanks, bye")
    assert operator.evaluate(MARKED)
    assert len(twilio.messages) == 1
    # each message once, in the order a reload shows them
    live = thread.locator("[data-xsms-bubble]").all_inner_texts()
    assert len(live) == 6
    operator.reload()
    expect(thread.locator("[data-xsms-bubble]")).to_have_count(6)
    assert thread.locator("[data-xsms-bubble]").all_inner_texts() == live
    operator.screenshot(path=str(OUTPUT_DIR / "conversation-handover.png"), full_page=True)


def test_a_reply_without_taking_over_says_what_to_do(context: t.Any) -> None:
    customer_number = "+14155550187"
    customer = context.new_page()
    open_simulator(customer, customer_number)
    text(customer, "hello")
    operator = context.new_page()
    open_conversation(operator, customer_number)
    operator.get_by_label("Reply").fill("Can I help?")
    operator.get_by_role("button", name="Send", exact=True).click()
    expect(operator.get_by_role("alert")).to_have_text("Take the conversation over to reply.")
    expect(operator.get_by_label("Reply")).to_have_value("Can I help?")
    expect(operator.get_by_label("Reply")).to_have_accessible_description(
        "Take the conversation over to reply."
        " Take the conversation over to reply: the chatbot stays silent while you have it."
    )


@pytest.fixture(scope="module")
def long_conversation(example_server: ExampleServer) -> str:
    """A conversation with a long word, a long URL and a picture with a long URL."""
    number = "+14155550186"
    with example_server.app.test_request_context():
        binding = simulator.find_number(CARE_NUMBER, domain_id="1")
        url = "https://example.com/" + "very-long-path-segment/" * 12 + "?q=" + "x" * 80
        simulator.simulate_inbound(binding, from_=number, body="hello")
        simulator.simulate_inbound(
            binding, from_=number, body=f"My order: {'A' * 120} see {url}"
        )
        simulator.simulate_inbound(
            binding, from_=number, body="", media_urls=[f"{url}/picture.jpg"]
        )
    return number


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_pages_fit_a_phone_and_a_desktop(
    context: t.Any, long_conversation: str, width: int
) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    thread = open_conversation(page, long_conversation)
    expect(thread.locator("[data-xsms-bubble]")).to_have_count(6)
    expect(thread.locator("[data-xsms-media] a")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") == width
    for i in range(6):
        box = thread.locator("[data-xsms-bubble]").nth(i).bounding_box()
        assert box and 0 <= box["x"] and box["x"] + box["width"] <= width
    # the customer on the left, the chatbot on the right
    customer_box = thread.locator("[data-xsms-bubble=customer]").first.bounding_box()
    bot_box = thread.locator("[data-xsms-bubble=bot]").first.bounding_box()
    assert customer_box and bot_box and customer_box["x"] < bot_box["x"]
    for name in ("Take over", "Send"):
        box = page.get_by_role("button", name=name, exact=True).bounding_box()
        assert box and box["x"] + box["width"] <= width and box["height"] >= 32
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"conversation-{width}.png"), full_page=True)

    page.goto(LIST)
    expect(page.get_by_role("link", name=long_conversation)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") == width
    for item in page.locator(".xsms-cv-item").all():
        box = item.bounding_box()
        assert box and box["x"] + box["width"] <= width
    page.screenshot(path=str(OUTPUT_DIR / f"conversations-{width}.png"), full_page=True)
