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
