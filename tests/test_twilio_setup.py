"""Check and configure bound numbers through Twilio's API, against the local stand-in."""
from __future__ import annotations

import json
import socket
import threading
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import twilio_setup
from flask_xsms.errors import NumberNotBound
from flask_xsms.twilio_setup import CONFIGURED
from flask_xsms.twilio_setup import NOT_CONFIGURED
from flask_xsms.twilio_setup import NOT_IN_ACCOUNT
from flask_xsms.twilio_setup import UNKNOWN

from .hostapp import Directory
from .pages import parse
from .twilio_server import Answer
from .twilio_server import RecordedRequest
from .twilio_server import TwilioStandIn
from .webhooks_support import AGENT_NUMBER
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import SALES_NUMBER

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"
OLD_URL = "https://old.example.com/sms"
CARE, SALES = "1", "2"


@pytest.fixture
def twilio(app: Flask, twilio_api: TwilioStandIn) -> TwilioStandIn:
    """The stand-in, checking the app's credentials, with the app's REST client on it."""
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    twilio_api.auth_token = AUTH_TOKEN
    return twilio_api


def configured(bound: Bound, **fields: t.Any) -> dict[str, t.Any]:
    """The fields of a number that Twilio sends to Customer Care's webhooks."""
    return {
        "sms_url": bound.urls.request_url,
        "sms_method": "POST",
        "sms_fallback_url": bound.urls.fallback_url,
        "sms_fallback_method": "POST",
        **fields,
    }


def states(results: list[twilio_setup.NumberStatus]) -> dict[str, str]:
    return {r.phone_number: r.state for r in results}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- check ----------------------------------------------------------------------------


def test_check_classifies_each_bound_number(bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER, **configured(bound))
    twilio.add_number(AGENT_NUMBER, sms_url=OLD_URL, sms_fallback_url="")
    # Twilio's PhoneNumber filter also matches parts of numbers: this one is not ours.
    twilio.add_number("+44" + SALES_NUMBER[1:])

    results = twilio_setup.check()

    assert [(r.phone_number, r.domain_label, r.state) for r in results] == [
        (CARE_NUMBER, "Customer Care (production)", CONFIGURED),
        (AGENT_NUMBER, "Customer Care (production)", NOT_CONFIGURED),
        (SALES_NUMBER, "Sales (production)", NOT_IN_ACCOUNT),
    ]
    care, agent, sales = results
    assert care.ok and care.summary == "Configured: Twilio sends its messages to this IA Domain."
    assert agent.summary == (
        f"Not configured: its SMS URL points to {OLD_URL}; its fallback URL is empty."
    )
    assert agent.overwrites == f"SMS URL {OLD_URL}, fallback URL (empty)"
    assert agent.twilio is not None and agent.twilio.sid.startswith("PN")
    assert sales.summary == "Not in this Twilio account." and sales.twilio is None
    # One list request per number, with the account's credentials; nothing changed.
    assert [(r.method, r.query.get("PhoneNumber")) for r in twilio.requests] == [
        ("GET", CARE_NUMBER),
        ("GET", AGENT_NUMBER),
        ("GET", SALES_NUMBER),
    ]
    assert {(r.account_sid, r.user, r.password) for r in twilio.requests} == {
        (ACCOUNT_SID, ACCOUNT_SID, AUTH_TOKEN)
    }
    assert twilio_setup.check(CARE) == results[:2]


@pytest.mark.parametrize(
    ("fields", "difference"),
    [
        ({"sms_method": "GET"}, "its SMS URL is called with GET"),
        ({"sms_fallback_method": "GET"}, "its fallback URL is called with GET"),
        ({"sms_fallback_url": OLD_URL}, f"its fallback URL points to {OLD_URL}"),
        (
            {"sms_application_sid": "AP" + "2" * 32},
            f"the SMS application AP{'2' * 32} overrides its URLs",
        ),
    ],
)
def test_anything_but_our_urls_with_post_is_not_configured(
    bound: Bound, twilio: TwilioStandIn, fields: dict[str, str], difference: str
) -> None:
    twilio.add_number(CARE_NUMBER, **configured(bound, **fields))
    (result, _) = twilio_setup.check(CARE)
    assert result.state == NOT_CONFIGURED
    assert result.differences == [difference]


def test_check_of_a_domain_without_numbers(app: Flask, twilio: TwilioStandIn) -> None:
    assert twilio_setup.check(CARE) == []
    assert twilio_setup.check() == []
    assert twilio.requests == []


# -- configure ------------------------------------------------------------------------


def test_configure_sets_our_urls_and_methods(bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER, sms_url=OLD_URL, sms_method="GET")
    twilio.add_number(AGENT_NUMBER, **configured(bound))

    results = twilio_setup.configure(CARE)

    assert [(r.phone_number, r.state, r.changed) for r in results] == [
        (CARE_NUMBER, CONFIGURED, True),
        (AGENT_NUMBER, CONFIGURED, False),
    ]
    (update,) = twilio.number_updates
    number = twilio.number(CARE_NUMBER)
    assert number is not None
    assert update.path.endswith(f"/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{number['sid']}.json")
    assert update.form.to_dict() == {
        "SmsUrl": bound.urls.request_url,
        "SmsMethod": "POST",
        "SmsFallbackUrl": bound.urls.fallback_url,
        "SmsFallbackMethod": "POST",
    }
    assert number["sms_url"] == bound.urls.request_url
    assert number["sms_fallback_url"] == bound.urls.fallback_url
    assert states(twilio_setup.check(CARE)) == {CARE_NUMBER: CONFIGURED, AGENT_NUMBER: CONFIGURED}


def test_configure_detaches_an_sms_application(bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER, **configured(bound, sms_application_sid="AP" + "3" * 32))
    (result,) = twilio_setup.configure(CARE, numbers=[CARE_NUMBER])
    assert result.state == CONFIGURED and result.changed
    assert twilio.number_updates[0].form["SmsApplicationSid"] == ""
    assert twilio.number(CARE_NUMBER)["sms_application_sid"] == ""  # type: ignore[index]


def test_configure_only_the_numbers_asked_for(bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER)
    twilio.add_number(AGENT_NUMBER)
    results = twilio_setup.configure(CARE, numbers=["+1 415 555 0101"])
    assert [(r.phone_number, r.changed) for r in results] == [(AGENT_NUMBER, True)]
    assert twilio.number(CARE_NUMBER)["sms_url"] == ""  # type: ignore[index]


def test_configure_refuses_numbers_not_bound_in_the_domain(
    bound: Bound, twilio: TwilioStandIn
) -> None:
    with pytest.raises(NumberNotBound, match=r"\+14155550200 is not bound in this IA Domain"):
        twilio_setup.configure(CARE, numbers=[SALES_NUMBER])
    assert twilio.requests == []


def test_configure_leaves_numbers_of_other_accounts_alone(
    bound: Bound, twilio: TwilioStandIn
) -> None:
    results = twilio_setup.configure(SALES)
    assert [(r.phone_number, r.state, r.changed) for r in results] == [
        (SALES_NUMBER, NOT_IN_ACCOUNT, False)
    ]
    assert twilio.number_updates == []


# -- errors ---------------------------------------------------------------------------


def test_bad_credentials(app: Flask, bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER)
    twilio.auth_token = "another-token"
    results = twilio_setup.check()
    assert {r.state for r in results} == {UNKNOWN}
    assert {r.error.reason for r in results if r.error} == {"credentials"}
    assert results[0].summary == (
        "Couldn't check: Twilio refused the account's credentials (HTTP 401, error 20003)."
        " Check the account SID and auth token."
    )
    # The account's other numbers are not asked about again.
    assert len(twilio.requests) == 1
    text = json.dumps([r.as_dict() for r in results])
    assert AUTH_TOKEN not in text and ACCOUNT_SID not in text


@pytest.mark.parametrize(
    ("status", "code", "reason", "message"),
    [
        (429, 20429, "rate_limited", "Twilio is limiting the rate of requests (HTTP 429, error"
         " 20429). Try again in a minute."),
        (500, 20500, "unavailable", "Twilio answered with a server error (HTTP 500, error"
         " 20500). Try again later."),
        (503, 503, "unavailable", "Twilio answered with a server error (HTTP 503). Try again"
         " later."),
    ],
)
def test_rate_limits_and_server_errors(
    bound: Bound, twilio: TwilioStandIn, status: int, code: int, reason: str, message: str
) -> None:
    twilio.add_number(CARE_NUMBER)
    twilio.fail(code, status, "Twilio's own words")
    care, agent = twilio_setup.check(CARE)
    assert care.state == agent.state == UNKNOWN
    assert care.error is not None and care.error.reason == reason
    assert (care.error.status, care.error.code) == (status, code)
    assert care.error.message == message
    assert agent.error is care.error and len(twilio.requests) == 1
    # The next check asks again and gets the answer.
    assert states(twilio_setup.check(CARE))[CARE_NUMBER] == NOT_CONFIGURED


def test_an_error_while_updating(bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER)
    twilio.add_number(AGENT_NUMBER)

    def fail_updates(request: RecordedRequest) -> Answer | None:
        if request.method == "POST":
            body = {"code": 20500, "message": "Internal", "more_info": "", "status": 500}
            return Answer(500, body)
        return None

    twilio.handler = fail_updates
    care, agent = twilio_setup.configure(CARE)
    assert care.state == UNKNOWN and not care.changed
    assert care.error is not None and care.error.reason == "unavailable"
    assert "server error (HTTP 500, error 20500)" in care.summary
    # Not asked again after a server error.
    assert agent.error is care.error
    assert twilio.number(CARE_NUMBER)["sms_url"] == ""  # type: ignore[index]


def test_a_number_removed_while_configuring(bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER)
    twilio.add_number(AGENT_NUMBER, **configured(bound))

    def remove_before_update(request: RecordedRequest) -> Answer | None:
        if request.method == "POST":
            twilio.numbers.clear()  # released in the Twilio console meanwhile
        return None

    twilio.handler = remove_before_update
    care, agent = twilio_setup.configure(CARE)
    assert care.state == UNKNOWN and care.error is not None and care.error.reason == "not_found"
    assert care.summary == (
        "Couldn't check: Twilio does not know this number in the account (HTTP 404, error 20404)."
    )
    assert ACCOUNT_SID not in care.summary
    assert agent.state == NOT_IN_ACCOUNT


def test_an_answer_that_is_not_json(bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.answer(200, "<html>maintenance</html>")
    care, _ = twilio_setup.check(CARE)
    assert care.state == UNKNOWN
    assert care.summary == "Couldn't check: Twilio's answer could not be read (JSONDecodeError)."


def test_network_down(app: Flask, bound: Bound) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{closed_port()}"
    care, agent = twilio_setup.check(CARE)
    assert care.state == agent.state == UNKNOWN
    assert care.error is not None and care.error.reason == "unavailable"
    assert care.summary == (
        "Couldn't check: Twilio could not be reached (ConnectionError)."
        " Check the network and try again."
    )


def test_time_out(app: Flask, bound: Bound, twilio: TwilioStandIn) -> None:
    app.config["XSMS_TWILIO_TIMEOUT"] = 0.2
    twilio.answer(200, {}, delay=1)
    care, _ = twilio_setup.check(CARE)
    assert care.summary == "Couldn't check: Twilio did not answer within 0.2 s. Try again later."


def test_missing_credentials(app: Flask, bound: Bound, twilio: TwilioStandIn) -> None:
    app.config["XSMS_TWILIO_AUTH_TOKEN"] = None
    care, _ = twilio_setup.check(CARE)
    assert care.state == UNKNOWN and care.error is not None
    assert care.error.reason == "credentials"
    assert "XSMS_TWILIO_AUTH_TOKEN" in care.summary
    assert twilio.requests == []


def test_outside_a_request_the_public_base_url_is_needed(
    app: Flask, bound: Bound, twilio: TwilioStandIn
) -> None:
    results: list[twilio_setup.NumberStatus] = []

    def run() -> None:
        with app.app_context():
            results.extend(twilio_setup.check(CARE))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert results[0].error is not None and results[0].error.reason == "url"
    assert "XSMS_PUBLIC_BASE_URL" in results[0].summary
    assert twilio.requests == []
