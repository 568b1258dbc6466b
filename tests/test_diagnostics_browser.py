"""A new user behind a TLS-ending proxy with a wrong public URL: the settings page names the
mismatch and the fix, and after the fix the Test webhook button says it validates.

Real servers: the example app served by Werkzeug, and in front of it an HTTPS proxy (a
self-signed certificate made with openssl) that forwards with ``X-Forwarded-Proto``.
"""
from __future__ import annotations

import shutil
import subprocess
import threading
import typing as t
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_xsms.integrations import create_integration

from .browser import expect
from .browser import browser_fixture
from .browser import context_fixture
from .browser import ExampleServer
from .browser import OUTPUT_DIR
from .browser import serve_example
from .browser import signed_in_fixture
from .signing import ACCOUNT_SID
from .signing import AUTH_TOKEN
from .signing import inbound_params
from .signing import sign
from .test_browser import _domain
from .test_browser import open_settings
from .test_browser import PRODUCTION_CARE

pytestmark = pytest.mark.browser
browser, signed_in, context = browser_fixture, signed_in_fixture, context_fixture

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class TLSProxy:
    """An HTTPS server that forwards every request to ``backend`` over HTTP, keeping the
    Host header and adding X-Forwarded-Proto/For, as a TLS-ending proxy does."""

    def __init__(self, backend: str, certificate: Path, key: Path) -> None:
        self.backend = backend
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, ssl_context=(str(certificate), str(key))
        )
        self.url = f"https://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _app(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.update({"X-Forwarded-Proto": "https", "X-Forwarded-For": request.remote_addr or ""})
        upstream = requests.request(
            request.method,
            self.backend + request.full_path.rstrip("?"),
            data=request.get_data(),
            headers=headers,
            allow_redirects=False,
            timeout=10,
        )
        response = Response(
            upstream.content,
            status=upstream.status_code,
            headers=[(k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP],
        )
        return response(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by ``requests`` in this module."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed; it makes the proxy's certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def example_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[ExampleServer]:
    yield from serve_example(
        tmp_path_factory, XSMS_TWILIO_ACCOUNT_SID=ACCOUNT_SID, XSMS_TWILIO_AUTH_TOKEN=AUTH_TOKEN
    )


@pytest.fixture
def proxy(
    example_server: ExampleServer,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> t.Iterator[TLSProxy]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    server = TLSProxy(example_server.url, *certificate)
    yield server
    server.stop()


def test_the_page_names_the_mismatch_and_the_button_confirms_the_fix(
    context: t.Any, example_server: ExampleServer, proxy: TLSProxy
) -> None:
    app = example_server.app
    # The operator wrote the proxy's address with http: instead of https:.
    wrong = proxy.url.replace("https://", "http://")
    app.config["XSMS_PUBLIC_BASE_URL"] = wrong
    with app.app_context():
        integration = create_integration(_domain(example_server, "Customer Care", "production"))
        assert integration is not None
        path = f"/xsms/hooks/{integration.webhook_id}/sms"
    try:
        # Twilio posts to the URL in its console, through the proxy, and is refused.
        params = inbound_params(To="+14155550100")
        twilio_url = proxy.url + path
        response = requests.post(
            twilio_url, data=params, headers={"X-Twilio-Signature": sign(twilio_url, params)}
        )
        assert response.status_code == 403

        page = context.new_page()
        open_settings(page, PRODUCTION_CARE)
        problems = page.locator("[data-xsms-webhook-problems]")
        expect(problems).to_contain_text(f"Twilio signed {twilio_url}, but the app checked {wrong}{path}")
        expect(problems).to_contain_text(f"Fix: Set XSMS_PUBLIC_BASE_URL={proxy.url} (it is {wrong} now).")
        OUTPUT_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / "webhook-problems.png"), full_page=True)

        page.get_by_role("button", name="Test webhook").click()
        # http: to the proxy's TLS port does not even connect
        expect(page.get_by_text(f"Could not reach {wrong}{path}")).to_be_visible()

        app.config["XSMS_PUBLIC_BASE_URL"] = proxy.url  # the fix the page named
        page.get_by_role("button", name="Test webhook").click()
        expect(
            page.get_by_text(f"The Request URL {twilio_url} validates Twilio's signature.")
        ).to_be_visible()
    finally:
        app.config["XSMS_PUBLIC_BASE_URL"] = None
