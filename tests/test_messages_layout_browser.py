"""The messages page at a phone's and a desktop's width: long texts and error URLs wrap,
the table scrolls in its own box, the page never scrolls sideways."""
from __future__ import annotations

import typing as t

import pytest

from flask_xsms.models import Message

from .browser import ExampleServer
from .browser import FIXTURES
from .browser import OUTPUT_DIR

pytestmark = pytest.mark.browser
example_server, browser, signed_in, context = FIXTURES

LONG_WORD = "x" * 300
LONG_URL = "https://example.com/" + "/".join(["very-long-path-segment"] * 12) + "/?q=" + "y" * 80


@pytest.fixture
def long_messages(example_server: ExampleServer) -> None:
    """Messages with a long text, a long word and a long error URL, in Customer Care."""
    app = example_server.app
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        for body, error in [
            ("word " * 120 + LONG_WORD, None),
            ("hello", f"Twilio error 11200 at {LONG_URL}"),
        ]:
            session.add(
                Message(
                    sid=None, direction="inbound", from_number="+14155550177",
                    to_number="+14155550100", body=body, status="failed",
                    error_message=error, details={},
                    integration_id=_integration_id(app),
                )
            )
        session.commit()


def _integration_id(app: t.Any) -> int:
    from flask_xsms.integrations import create_integration
    from flask_xsms._state import get_state

    domain = get_state(app).load_domain("1")
    assert domain is not None
    integration = create_integration(domain)
    assert integration is not None
    return integration.id


@pytest.mark.parametrize("width", [390, 1280])
def test_the_messages_page_never_scrolls_sideways(
    context: t.Any, long_messages: None, width: int
) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/xsms/domains/1/twilio-sms/messages")
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"messages-{width}.png"), full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    body = page.locator("td.xsms-body").first
    box = body.bounding_box()
    assert box is not None and box["width"] >= 150  # text reads as lines, not a column
    # a table wider than the page scrolls in its own box
    scroll = page.locator(".xsms-table-scroll").first
    assert scroll.evaluate("e => getComputedStyle(e).overflowX") == "auto"


@pytest.fixture(scope="module")
def whatsapp_messages(example_server: ExampleServer) -> None:
    """A WhatsApp customer who wrote an hour ago, and one whose window closed, with a
    message that failed with Twilio's 63016."""
    import datetime as dt

    from flask_xsms.models import Conversation
    from flask_xsms.models import utcnow

    app = example_server.app
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        integration_id = _integration_id(app)
        sender = "whatsapp:+14155550100"
        for customer, age, body, error in [
            ("whatsapp:+14155550188", dt.timedelta(hours=1), "Is my order on its way?", None),
            ("whatsapp:+14155550199", dt.timedelta(hours=30), "Your order shipped", "63016"),
        ]:
            when = utcnow() - age
            conversation = Conversation(
                integration_id=integration_id, application_id="1", customer_number=customer,
                service_number=sender, started_at=when, last_message_at=when,
                closed_at=when if error else None,
            )
            session.add(conversation)
            session.flush()
            inbound = error is None
            session.add(
                Message(
                    sid=None, direction="inbound" if inbound else "outbound",
                    from_number=customer if inbound else sender,
                    to_number=sender if inbound else customer, body=body,
                    status="handled" if inbound else "failed", error_code=error,
                    num_segments=1, details={}, integration_id=integration_id,
                    conversation_id=conversation.id,
                )
            )
        session.commit()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_messages_page_shows_whatsapp_windows_and_explains_63016(
    context: t.Any, whatsapp_messages: None, width: int
) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/xsms/domains/1/twilio-sms/messages?number=whatsapp:%2B14155550188")
    page.get_by_text("WhatsApp window open until").wait_for()
    assert page.locator("td.xsms-body").first.inner_text().strip() == "Is my order on its way?"
    page.goto("/xsms/domains/1/twilio-sms/messages?number=whatsapp:%2B14155550199")
    page.get_by_text("WhatsApp window closed at").wait_for()
    page.get_by_text("Outside WhatsApp's 24-hour customer service window").wait_for()
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / f"messages-whatsapp-{width}.png"), full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    assert "segment" not in page.locator("table.xsms-log").inner_text()
