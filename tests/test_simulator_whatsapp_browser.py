"""The simulator on WhatsApp in a real browser, on the example app: an operator binds a
WhatsApp sender on the settings page, a developer chooses it in the simulator and chats
with the demo bot over WhatsApp, with a profile name and a picture."""
from __future__ import annotations

import typing as t
import urllib.parse

import pytest

from flask_xsms import InboundMessage
from flask_xsms import signals

from .browser import expect
from .browser import ExampleServer
from .browser import FIXTURES
from .browser import room_in_select
from .browser import OUTPUT_DIR
from .browser import serve_example
from .browser import serve_twilio
from .test_simulator_browser import GREETING
from .test_simulator_browser import simulator_ready
from .twilio_server import TwilioStandIn

pytestmark = pytest.mark.browser
_, browser, signed_in, context = FIXTURES

SMS_NUMBER = "+14155550100"
WA_NUMBER = "whatsapp:+14155238886"
WA_OPTION = "WhatsApp +14155238886 · Acme Care Assistant"
#: The id of Acme Care Assistant, the application both are bound to.
CARE_APP = "1"
PICTURE = "https://cdn.example.com/parcel.jpg"
WIDTHS = {"phone": 390, "desktop": 1280}
#: How many pixels the first ``length`` characters of the chosen option leave free in the
#: closed dropdown (its arrow takes about 2rem).


@pytest.fixture(scope="module")
def twilio() -> t.Iterator[TwilioStandIn]:
    """Twilio's REST API for replies sent later (the demo credentials reach no Twilio)."""
    yield from serve_twilio()


@pytest.fixture(scope="module")
def example_server(
    tmp_path_factory: pytest.TempPathFactory, twilio: TwilioStandIn
) -> t.Iterator[ExampleServer]:
    yield from serve_example(tmp_path_factory, XSMS_TWILIO_API_BASE_URL=twilio.url)


@pytest.fixture(scope="module")
def received() -> t.Iterator[list[InboundMessage]]:
    """The messages Acme Care Assistant's chatbots got (this one answers nothing)."""
    messages: list[InboundMessage] = []

    def record(sender: str, *, message: InboundMessage, **extra: t.Any) -> None:
        messages.append(message)

    signals.message_received.connect(record, sender=CARE_APP, weak=False)
    yield messages
    signals.message_received.disconnect(record)


@pytest.fixture(scope="module", autouse=True)
def bound(browser: t.Any, example_server: ExampleServer, signed_in: dict[str, t.Any]) -> None:
    """An operator binds an SMS number and a WhatsApp sender on Customer Care's settings
    page, the WhatsApp sender typed as people write it."""
    context = browser.new_context(base_url=example_server.url, storage_state=signed_in)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/xsms/domains/1/twilio-sms")
    expect(page.locator("form[data-xsms-settings][data-xsms-ready]")).to_have_count(1)
    numbers, applications = page.get_by_label("Phone Number"), page.get_by_label("Application")
    for i, number in enumerate(["+1 415 555 0100", "WhatsApp: +1 415 523 8886"]):
        page.get_by_role("button", name="Add Number").click()
        numbers.nth(i).fill(number)
        applications.nth(i).select_option(label="Acme Care Assistant")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your Twilio SMS settings were saved.")).to_be_visible()
    expect(numbers).to_have_count(2)
    expect(numbers.nth(0)).to_have_value(SMS_NUMBER)
    expect(numbers.nth(1)).to_have_value(WA_NUMBER)
    context.close()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_developer_chats_with_the_demo_bot_over_whatsapp(
    context: t.Any, width: int, twilio: TwilioStandIn, received: list[InboundMessage]
) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/xsms/simulator?domain=1")
    simulator_ready(page)
    number = page.get_by_label("Twilio number")
    sms = page.get_by_role("radio", name="SMS")
    whatsapp = page.get_by_role("radio", name="WhatsApp")
    profile, counter = page.get_by_label("Profile name"), page.locator("[data-xsms-sim-segments]")
    prefix = page.locator("[data-xsms-sim-prefix]")

    # The SMS number comes first: SMS, segments counted, no WhatsApp fields.
    expect(number).to_have_value(SMS_NUMBER)
    expect(sms).to_be_checked()
    expect(profile).to_be_hidden()
    expect(prefix).to_be_hidden()
    expect(counter).to_be_visible()

    # Choosing the WhatsApp sender chooses WhatsApp: no segments there, a profile name.
    number.select_option(label=WA_OPTION)
    expect(whatsapp).to_be_checked()
    expect(page.locator("[data-xsms-sim-channel-help]")).to_have_text(
        "A WhatsApp sender: customers write to it on WhatsApp only."
    )
    expect(profile).to_be_visible()
    expect(prefix).to_have_text("whatsapp:")
    expect(counter).to_be_hidden()
    expect(page.get_by_label("Message")).to_have_accessible_description("")
    # The closed dropdown shows the channel and the number in full; on a phone the
    # application's name may end in an ellipsis.
    shown = len("WhatsApp +14155238886") if width < 600 else len(WA_OPTION)
    room = room_in_select(number, shown)
    assert room >= 0, f"the chosen option is {-room:.0f} px too wide"
    # ...and the channel chooses the number, back and forth.
    sms.check()
    expect(number).to_have_value(SMS_NUMBER)
    expect(profile).to_be_hidden()
    whatsapp.check()
    expect(number).to_have_value(WA_NUMBER)

    customer = f"+1415555{width:04d}"
    page.get_by_label("Customer number").fill(customer)
    page.get_by_label("Customer number").dispatch_event("change")
    profile.fill("Ana")
    chat = page.get_by_role("log", name="Conversation")
    people = chat.locator("[data-xsms-bubble=inbound]")
    bot = chat.locator("[data-xsms-bubble=outbound]")
    page.get_by_label("Message").fill("hello")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(people.nth(0)).to_contain_text("hello")
    expect(people.nth(0)).to_contain_text("Ana on WhatsApp")
    expect(bot.nth(0)).to_contain_text(GREETING)

    # A picture alone: the demo bot thanks for it.
    page.get_by_label("Media URLs").fill(PICTURE)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(people.nth(1).get_by_role("link", name=PICTURE)).to_have_attribute("href", PICTURE)
    expect(bot.nth(1)).to_contain_text("Thanks for the 1 attachment(s).")
    expect(page.get_by_label("Media URLs")).to_have_value("")
    mine = [m for m in received if m.from_ == f"whatsapp:{customer}"]
    assert [(m.channel, m.to, m.profile_name, m.wa_id, m.body) for m in mine] == [
        ("whatsapp", WA_NUMBER, "Ana", customer[1:], "hello"),
        ("whatsapp", WA_NUMBER, "Ana", customer[1:], ""),
    ]
    assert [(m.url, m.content_type) for m in mine[1].media] == [(PICTURE, "image/jpeg")]

    # Through the Fallback URL the demo bot answers later, through the REST API, on
    # WhatsApp: the page finds the reply in the stored conversation.
    page.get_by_label("Message").fill("are you there?")
    page.get_by_role("button", name="Send to Fallback URL").click()
    expect(bot.nth(2)).to_contain_text("Sorry, we can't answer right now.")
    expect(bot.nth(3)).to_contain_text("You said: are you there?")
    expect(bot.nth(3)).to_contain_text("Sent later through the REST API")
    expect(bot.nth(3).get_by_role("button", name="Report")).to_be_visible()  # it has a sid
    (sent,) = [r for r in twilio.messages if r.form.get("To") == f"whatsapp:{customer}"]
    assert (sent.form["From"], sent.form["Body"]) == (WA_NUMBER, "You said: are you there?")

    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"simulator-whatsapp-{width}.png"), full_page=True)

    # Opened again, the conversation comes back from the stored messages.
    query = urllib.parse.urlencode({"domain": "1", "number": WA_NUMBER, "customer": customer})
    page.goto(f"/xsms/simulator?{query}")
    simulator_ready(page)
    expect(whatsapp).to_be_checked()
    expect(people).to_have_count(3)
    expect(people.nth(1).get_by_role("link", name=PICTURE)).to_be_visible()
    expect(bot).to_have_count(3)  # the Fallback URL's polite answer is not stored
    expect(bot.nth(2)).to_contain_text("You said: are you there?")
