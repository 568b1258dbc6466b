"""Fixtures for the browser tests: the real example app served on a free port, and
Debian's chromium driven by Playwright.

A test module uses them by listing :data:`FIXTURES` in its globals.
"""
from __future__ import annotations

import os
import shutil
import threading
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from .twilio_server import TwilioStandIn

DEBIAN_CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
#: Where screenshots go: the checkout's test-output folder (ignored by git).
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


def chromium_path() -> str:
    """Debian's chromium; skipped when missing, a failure when CI=true."""
    path: str | None = DEBIAN_CHROMIUM
    if not os.path.exists(DEBIAN_CHROMIUM):
        path = shutil.which("chromium")
    if path is None:
        reason = (
            "Debian's chromium is not installed (no /usr/bin/chromium, no 'chromium' on PATH);"
            " install it (apt-get install chromium) to run the browser tests"
        )
        if IN_CI:
            pytest.fail(reason + " (required when CI=true)")
        pytest.skip(reason)
    return path


class ExampleServer:
    """The example app, seeded, served by Werkzeug in a thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def serve_example(
    tmp_path_factory: pytest.TempPathFactory, **config: t.Any
) -> t.Iterator[ExampleServer]:
    """The example app, seeded on a SQLite file of its own, served until the caller ends."""
    from example_app import create_app
    from example_app import init_database

    database = tmp_path_factory.mktemp("example") / "example.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", **config})
    with app.app_context():
        init_database()
    server = ExampleServer(app)
    server.start()
    yield server
    server.stop()
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


_ROOM_IN_SELECT = """(select, length) => {
    const style = getComputedStyle(select);
    const probe = document.createElement("span");
    probe.style.font = style.font;
    probe.style.whiteSpace = "pre";
    probe.textContent = select.selectedOptions[0].text.slice(0, length ?? undefined);
    document.body.append(probe);
    const text = probe.getBoundingClientRect().width;
    probe.remove();
    const inner = select.clientWidth - parseFloat(style.paddingLeft)
        - parseFloat(style.paddingRight);
    return inner - 32 - text;
}"""


def room_in_select(select: t.Any, length: int | None = None) -> float:
    """Pixels to spare in a closed dropdown for its chosen option's text (its first
    ``length`` characters); the arrow takes about 2rem. Negative: the text is cut."""
    return float(select.evaluate(_ROOM_IN_SELECT, length))


def serve_twilio(auth_token: str | None = None) -> t.Iterator[TwilioStandIn]:
    """A Twilio stand-in for a module's example server; with ``auth_token``, it refuses
    other credentials as Twilio does."""
    server = TwilioStandIn().start()
    server.auth_token = auth_token
    yield server
    server.stop()


def serve_example_on_twilio(
    tmp_path_factory: pytest.TempPathFactory, twilio: TwilioStandIn
) -> t.Iterator[ExampleServer]:
    """The example app with the tests' Twilio credentials, its REST client pointed at
    ``twilio``."""
    from .signing import ACCOUNT_SID
    from .signing import AUTH_TOKEN

    yield from serve_example(
        tmp_path_factory,
        XSMS_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        XSMS_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        XSMS_TWILIO_API_BASE_URL=twilio.url,
    )


@pytest.fixture(scope="module", name="twilio")
def checking_twilio_fixture() -> t.Iterator[TwilioStandIn]:
    """A Twilio stand-in that takes only the tests' credentials."""
    from .signing import AUTH_TOKEN

    yield from serve_twilio(AUTH_TOKEN)


@pytest.fixture(scope="module", name="example_server")
def example_on_twilio_fixture(
    tmp_path_factory: pytest.TempPathFactory, twilio: TwilioStandIn
) -> t.Iterator[ExampleServer]:
    """The example app with the tests' credentials, talking to the ``twilio`` stand-in."""
    yield from serve_example_on_twilio(tmp_path_factory, twilio)


@pytest.fixture(scope="module", name="example_server")
def example_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[ExampleServer]:
    yield from serve_example(tmp_path_factory)


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> t.Iterator[t.Any]:
    """One headless chromium for the whole module."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def expect(target: t.Any) -> t.Any:
    """Playwright's ``expect``, imported when a browser test runs."""
    from playwright.sync_api import expect as _expect

    return _expect(target)


def sign_in(page: t.Any) -> None:
    """Sign in to the example app with the demo login, through its form."""
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="IA Domains")).to_be_visible()


@pytest.fixture(scope="module", name="signed_in")
def signed_in_fixture(browser: t.Any, example_server: ExampleServer) -> dict[str, t.Any]:
    """The cookies of a demo sign-in, made once per module (hashing a password is slow)."""
    context = browser.new_context(base_url=example_server.url)
    sign_in(context.new_page())
    state = context.storage_state()
    context.close()
    return t.cast(dict[str, t.Any], state)


@pytest.fixture(name="context")
def context_fixture(
    browser: t.Any, example_server: ExampleServer, signed_in: dict[str, t.Any]
) -> t.Iterator[t.Any]:
    """A fresh browser context, signed in as the demo user."""
    context = browser.new_context(base_url=example_server.url, storage_state=signed_in)
    context.set_default_timeout(10_000)
    yield context
    context.close()


#: The fixtures above, for ``from .browser import FIXTURES`` in a test module.
FIXTURES = (example_server_fixture, browser_fixture, signed_in_fixture, context_fixture)
