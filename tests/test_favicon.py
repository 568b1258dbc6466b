"""Every page names its icon, so that no browser asks for a /favicon.ico that is not there."""
from __future__ import annotations

from flask import Flask

from .pages import parse


def icon_of(app: Flask, path: str) -> str:
    client = app.test_client()
    response = client.get(path)
    assert response.status_code == 200, path
    (link,) = parse(response.text).find_all("link", rel="icon")
    href = link["href"]
    assert href and link["type"] == "image/svg+xml"
    icon = client.get(href)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.text.startswith("<svg ")
    icon.close()
    return href


def test_the_extensions_own_layout_has_an_icon(app: Flask) -> None:
    app.config["XSMS_SIMULATOR"] = True
    for path in ("/xsms/domains/1/integrations", "/xsms/domains/1/twilio-sms", "/xsms/simulator"):
        assert icon_of(app, path) == "/xsms/static/xsms/favicon.svg"


def test_the_example_host_has_an_icon(example: Flask) -> None:
    assert icon_of(example, "/login") == "/static/favicon.svg"
