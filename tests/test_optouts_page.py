"""The messages page shows who opted out of the domain's numbers, when and why."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from flask_xsms._optouts import set_opted_out

from .pages import parse
from .signing import CUSTOMER
from .signing import inbound_params
from .signing import signed_post
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import SALES_NUMBER


def opt_out_rows(client: FlaskClient) -> list[list[str]]:
    page = parse(client.get("/xsms/domains/1/twilio-sms/messages").text)
    tables = page.find_all("table")
    table = next((t for t in tables if t.attrs.get("aria-labelledby") == "xsms-opt-outs-heading"), None)
    if table is None:
        return []
    return [[td.text for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]


def test_opt_outs_from_keywords_are_listed_with_their_reason(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    assert opt_out_rows(client) == []
    assert "No customer has opted out" in client.get("/xsms/domains/1/twilio-sms/messages").text
    signed_post(client, bound.urls.request_url, inbound_params(To=CARE_NUMBER, Body="stop"))
    signed_post(
        client, bound.urls.request_url, inbound_params(To=CARE_NUMBER, From="+14155550123", Body="x", OptOutType="STOP")
    )
    rows = opt_out_rows(client)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("+14155550123", CARE_NUMBER, "Opted out", "OptOutType"),
        (CUSTOMER, CARE_NUMBER, "Opted out", "STOP"),
    ]
    assert all(len(r[3]) == 19 for r in rows)  # "YYYY-MM-DD HH:MM:SS"
    signed_post(client, bound.urls.request_url, inbound_params(To=CARE_NUMBER, Body="START"))
    assert opt_out_rows(client)[0][:3] == [CUSTOMER, CARE_NUMBER, "Opted back in"]


def test_only_the_domains_numbers_are_listed(app: Flask, client: FlaskClient, bound: Bound) -> None:
    set_opted_out("acme", SALES_NUMBER, CUSTOMER, True, "error 21610")
    assert opt_out_rows(client) == []
    set_opted_out("acme", CARE_NUMBER, CUSTOMER, True, "error 21610")
    assert [r[4] for r in opt_out_rows(client)] == ["error 21610"]
