"""The example host's pages on a phone and on a desktop: nothing wider than the screen,
the top bar readable, and no request that fails (the icon included)."""
from __future__ import annotations

import threading
import typing as t

import pytest

from .browser import expect
from .browser import ExampleServer
from .browser import FIXTURES
from .browser import OUTPUT_DIR
from .browser import sign_in

pytestmark = pytest.mark.browser
example_server, browser, signed_in, context = FIXTURES

WIDTHS = {"phone": 390, "desktop": 1280}
#: The pages of the example host and of the extension that a newcomer opens first.
PAGES = {
    "domains": "/",
    "integrations": "/xsms/domains/1/integrations",
    "settings": "/xsms/domains/1/twilio-sms",
    "simulator": "/xsms/simulator?domain=1",
}


def watch(page: t.Any) -> list[str]:
    """What went wrong while loading: failed requests, and the console's errors."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on(
        "response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )
    return problems


def fits(page: t.Any, width: int) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width, page.url


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_top_bar_fits_and_keeps_the_email_apart_from_sign_out(
    context: t.Any, width: int
) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    problems = watch(page)
    for name, path in PAGES.items():
        page.goto(path)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        fits(page, width)
        email = page.get_by_text("demo@example.com", exact=True)
        sign_out = page.get_by_role("button", name="Sign out")
        expect(email).to_be_visible()
        a, b = email.bounding_box(), sign_out.bounding_box()
        assert a and b
        for box in (a, b):
            assert 0 <= box["x"] and box["x"] + box["width"] <= width, name
        # Side by side with room between them, or on lines of their own.
        apart = b["x"] - (a["x"] + a["width"]) >= 8
        stacked = b["y"] >= a["y"] + a["height"] or a["y"] >= b["y"] + b["height"]
        assert apart or stacked, f"{name}: {a} runs into {b}"
        if name == "domains":
            OUTPUT_DIR.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT_DIR / f"domains-{width}.png"), full_page=True)
    # Every IA Domain still offers its Integrations link on a phone.
    page.goto("/")
    links = page.get_by_role("link", name="Integrations of ")
    expect(links).to_have_count(4)
    for i in range(4):
        box = links.nth(i).bounding_box()
        assert box and box["x"] + box["width"] <= width
    assert problems == []


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_signed_out_pages_fit_too(
    browser: t.Any, example_server: ExampleServer, width: int
) -> None:
    context = browser.new_context(
        base_url=example_server.url, viewport={"width": width, "height": 800}
    )
    page = context.new_page()
    problems = watch(page)
    sign_in(page)
    fits(page, width)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    fits(page, width)
    context.close()
    assert problems == []


def test_every_page_names_an_icon_that_is_there(
    browser: t.Any, example_server: ExampleServer, signed_in: dict[str, t.Any]
) -> None:
    """Chromium asks for a page's icon after the page has loaded, out of Playwright's
    sight: the server records what it was asked."""
    app = example_server.app
    seen: list[tuple[str, int]] = []
    asked = threading.Event()
    wsgi_app = app.wsgi_app

    def recording(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        path = environ["PATH_INFO"]

        def start(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
            seen.append((path, int(status.split()[0])))
            if "favicon" in path:
                asked.set()
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    app.wsgi_app = recording  # type: ignore[method-assign]
    try:
        for path in ["/login", *PAGES.values()]:
            # A context of its own each time: no icon cached from the page before.
            state = None if path == "/login" else signed_in
            context = browser.new_context(base_url=example_server.url, storage_state=state)
            asked.clear()
            context.new_page().goto(path)
            assert asked.wait(10), f"{path}: no icon fetched (a missing one is remembered)"
            context.close()
    finally:
        app.wsgi_app = wsgi_app  # type: ignore[method-assign]
    assert [(p, s) for p, s in seen if "favicon" in p] == [("/static/favicon.svg", 200)] * 5
    assert [(p, s) for p, s in seen if s >= 400] == []
