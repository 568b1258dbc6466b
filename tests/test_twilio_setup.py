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
    assert update.path == (
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{number['sid']}.json"
    )
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


# -- settings page endpoints ----------------------------------------------------------


def status_url(domain_id: str) -> str:
    return f"/xsms/domains/{domain_id}/twilio-sms/twilio-status"


def configure_url(domain_id: str) -> str:
    return f"/xsms/domains/{domain_id}/twilio-sms/twilio-configure"


def test_settings_page_loads_without_asking_twilio(
    client: FlaskClient, bound: Bound, twilio: TwilioStandIn
) -> None:
    page = parse(client.get(f"/xsms/domains/{CARE}/twilio-sms").text)
    panel = page.find("section", data_xsms_twilio=True)
    assert panel["data-xsms-twilio-status-url"] == status_url(CARE)
    assert panel["data-xsms-twilio-configure-url"] == configure_url(CARE)
    assert [b.text for b in panel.find_all("button")] == [
        "Check in Twilio",
        "Configure all in Twilio",
        "Configure in Twilio",
    ]
    assert twilio.requests == []


def test_status_endpoint(client: FlaskClient, bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER, sms_url=OLD_URL)
    response = client.get(status_url(CARE))
    assert response.status_code == 200
    care, agent = response.json["numbers"]
    assert care["phone_number"] == CARE_NUMBER and care["state"] == NOT_CONFIGURED
    assert care["summary"].startswith(f"Not configured: its SMS URL points to {OLD_URL}")
    assert care["overwrites"] == f"SMS URL {OLD_URL}, fallback URL (empty)"
    assert care["request_url"] == bound.urls.request_url
    assert care["fallback_url"] == bound.urls.fallback_url
    assert care["twilio"]["sms_url"] == OLD_URL
    assert agent["state"] == NOT_IN_ACCOUNT and agent["error"] is None


def test_twilio_errors_are_answered_not_raised(
    client: FlaskClient, bound: Bound, twilio: TwilioStandIn
) -> None:
    twilio.fail(20500, 500, "Internal Server Error")
    response = client.get(status_url(CARE))
    assert response.status_code == 200
    assert {n["state"] for n in response.json["numbers"]} == {UNKNOWN}
    assert response.json["numbers"][0]["error"]["reason"] == "unavailable"
    assert AUTH_TOKEN not in response.text


def test_configure_endpoint(
    app: Flask, client: FlaskClient, bound: Bound, twilio: TwilioStandIn
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    twilio.add_number(CARE_NUMBER, sms_url=OLD_URL)
    twilio.add_number(AGENT_NUMBER, sms_url=OLD_URL)
    response = client.post(configure_url(CARE), data={"phone_number": AGENT_NUMBER})
    assert response.status_code == 200
    (agent,) = response.json["numbers"]
    assert (agent["phone_number"], agent["state"], agent["changed"]) == (
        AGENT_NUMBER, CONFIGURED, True
    )
    assert twilio.number(AGENT_NUMBER)["sms_url"] == bound.urls.request_url  # type: ignore[index]
    assert twilio.number(CARE_NUMBER)["sms_url"] == OLD_URL  # type: ignore[index]

    response = client.post(configure_url(CARE))  # no number: all of them
    assert [(n["phone_number"], n["changed"]) for n in response.json["numbers"]] == [
        (CARE_NUMBER, True),
        (AGENT_NUMBER, False),
    ]


def test_only_saved_numbers_can_be_configured(
    app: Flask, client: FlaskClient, bound: Bound, twilio: TwilioStandIn
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    for number in (SALES_NUMBER, "+14155550177", "415"):
        response = client.post(configure_url(CARE), data={"phone_number": number})
        assert response.status_code == 400
        assert "Save it first, then configure it in Twilio." in response.json["error"]
    assert twilio.requests == []


def test_configure_needs_the_pages_csrf_token(
    app: Flask, client: FlaskClient, bound: Bound, twilio: TwilioStandIn
) -> None:
    twilio.add_number(CARE_NUMBER)
    response = client.post(configure_url(CARE), data={"phone_number": CARE_NUMBER})
    assert response.status_code == 400
    assert response.json["error"].startswith("This page has expired.")
    assert twilio.requests == []
    settings = parse(client.get(f"/xsms/domains/{CARE}/twilio-sms").text)
    token = settings.find("input", name="csrf_token")["value"]
    response = client.post(
        configure_url(CARE), data={"phone_number": CARE_NUMBER, "csrf_token": token}
    )
    assert response.status_code == 200 and response.json["numbers"][0]["changed"]


def test_host_csrf_protection_covers_configure(csrf_app: Flask, twilio_api: TwilioStandIn) -> None:
    csrf_app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    client = csrf_app.test_client()
    response = client.post(configure_url(CARE))
    assert response.status_code == 400
    assert "CSRF" in response.json["error"]
    assert twilio_api.requests == []


def test_same_permission_check_as_the_settings_page(
    client: FlaskClient, directory: Directory, bound: Bound, twilio: TwilioStandIn
) -> None:
    directory.allowed = {SALES}
    for response in (client.get(status_url(CARE)), client.post(configure_url(CARE))):
        assert response.status_code == 403
        assert response.json == {"error": "You may not manage the integrations of this IA Domain."}
    response = client.get(status_url("99"))
    assert response.status_code == 404
    assert response.json == {"error": "There is no such IA Domain."}
    assert twilio.requests == []


# -- Twilio checks off ----------------------------------------------------------------


def test_with_twilio_checks_off_the_page_says_so_and_asks_nothing(
    app: Flask, client: FlaskClient, bound: Bound, twilio: TwilioStandIn
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["XSMS_TWILIO_CHECKS"] = False
    twilio.add_number(CARE_NUMBER, sms_url=OLD_URL)
    page = parse(client.get(f"/xsms/domains/{CARE}/twilio-sms").text)
    assert page.find_all("section", data_xsms_twilio=True) == []
    assert not [s for s in page.find_all("script") if "twilio_setup.js" in (s.get("src") or "")]
    off = page.find("section", data_xsms_twilio_off=True)
    assert off.find("h2").text == "Twilio checks are off"
    assert "XSMS_TWILIO_CHECKS is off" in off.text
    assert "SMS simulator" not in off.text  # the simulator is off in this app
    assert "Configure in Twilio" not in off.text and off.find_all("button") == []

    for response in (client.get(status_url(CARE)), client.post(configure_url(CARE))):
        assert response.status_code == 404
        assert response.json == {"error": "Twilio checks are off in this app (XSMS_TWILIO_CHECKS)."}
    assert twilio.requests == []
    # The CLI still asks Twilio when told to.
    code, _ = run(app, "twilio-check", "--domain", CARE)
    assert twilio.requests and code == 1


def test_with_twilio_checks_off_the_page_points_to_the_simulator(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    app.config["XSMS_TWILIO_CHECKS"] = False
    app.config["XSMS_SIMULATOR"] = True
    off = parse(client.get(f"/xsms/domains/{CARE}/twilio-sms").text).find(
        "section", data_xsms_twilio_off=True
    )
    assert "text the numbers in the SMS simulator" in off.text
    assert off.find("a", href=f"/xsms/simulator?domain={CARE}").text == "SMS simulator"


@pytest.mark.parametrize(("demo", "checks"), [(True, False), (False, True)])
def test_the_example_app_turns_twilio_checks_off_on_its_demo_credentials(
    database_url: str, demo: bool, checks: bool
) -> None:
    from example_app import create_app
    from example_app import DEMO_AUTH_TOKEN

    token = DEMO_AUTH_TOKEN if demo else AUTH_TOKEN
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "XSMS_TWILIO_AUTH_TOKEN": token})
    assert app.config["XSMS_TWILIO_CHECKS"] is checks
    # A host's own choice wins.
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "XSMS_TWILIO_AUTH_TOKEN": token,
            "XSMS_TWILIO_CHECKS": not checks,
        }
    )
    assert app.config["XSMS_TWILIO_CHECKS"] is (not checks)


# -- Test webhook, as JSON ------------------------------------------------------------


def webhook_test_url(domain_id: str) -> str:
    return f"/xsms/domains/{domain_id}/twilio-sms/webhook-test"


def test_the_webhook_test_answers_json_for_the_button(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{closed_port()}"
    settings = parse(client.get(f"/xsms/domains/{CARE}/twilio-sms").text)
    form = settings.find("form", data_xsms_webhook_test=webhook_test_url(CARE))
    status = form.find("p", data_xsms_webhook_result=True)
    assert status["role"] == "status" and status.text == ""
    token = form.find("input", name="csrf_token")["value"]

    response = client.post(webhook_test_url(CARE), data={"csrf_token": token})
    assert response.status_code == 200
    url = bound.urls.request_url.replace("http://localhost", app.config["XSMS_PUBLIC_BASE_URL"])
    assert response.json["ok"] is False and response.json["url"] == url
    assert response.json["message"].startswith(f"Could not reach {url}: ")
    # Nothing was flashed: the answer is shown beside the button, not at the page's top.
    assert "Could not reach" not in client.get(f"/xsms/domains/{CARE}/twilio-sms").text


def test_the_webhook_test_needs_the_csrf_token_and_the_permission(
    client: FlaskClient, directory: Directory, bound: Bound
) -> None:
    response = client.post(webhook_test_url(CARE))
    assert response.status_code == 400
    assert response.json == {
        "error": "This form has expired. Nothing was tested: reload the page and try again."
    }
    directory.allowed = {SALES}
    response = client.post(webhook_test_url(CARE))
    assert response.status_code == 403
    assert response.json == {"error": "You may not manage the integrations of this IA Domain."}


def test_host_csrf_protection_covers_the_webhook_test(csrf_app: Flask) -> None:
    response = csrf_app.test_client().post(webhook_test_url(CARE))
    assert response.status_code == 400
    error = response.json["error"]
    assert error.startswith("This form has expired. Nothing was tested:") and "CSRF" in error


# -- CLI ------------------------------------------------------------------------------


def run(app: Flask, *args: str, input: str | None = None) -> tuple[int, list[list[str]]]:
    result = app.test_cli_runner().invoke(args=["xsms", *args], input=input)
    return result.exit_code, [line.split("  ") for line in result.output.splitlines()]


def cells(lines: list[list[str]]) -> list[list[str]]:
    return [[c.strip() for c in line if c.strip()] for line in lines]


def test_cli_check(app: Flask, bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER, **configured(bound))
    twilio.add_number(AGENT_NUMBER, sms_url=OLD_URL)
    code, lines = run(app, "twilio-check")
    assert code == 1
    assert cells(lines) == [
        ["Phone Number", "IA Domain", "Twilio", "Details"],
        [CARE_NUMBER, "Customer Care (production)", "configured"],
        [AGENT_NUMBER, "Customer Care (production)", "not configured",
         f"its SMS URL points to {OLD_URL}; its fallback URL is empty"],
        [SALES_NUMBER, "Sales (production)", "not in this Twilio account"],
        ["1 configured, 1 not configured, 1 not in this Twilio account."],
    ]
    twilio.numbers.clear()
    twilio.add_number(CARE_NUMBER, **configured(bound))
    twilio.add_number(AGENT_NUMBER, **configured(bound))
    code, lines = run(app, "twilio-check", "--domain", CARE)
    assert code == 0
    assert cells(lines)[-1] == ["2 configured."]


def test_cli_configure_asks_first(app: Flask, bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.add_number(CARE_NUMBER, sms_url=OLD_URL)
    twilio.add_number(AGENT_NUMBER, **configured(bound))
    code, lines = run(app, "twilio-configure", "--domain", CARE, input="n\n")
    assert code == 1
    text = "\n".join("  ".join(line) for line in lines)
    assert "This replaces in Twilio:" in text
    assert (
        f"{CARE_NUMBER} (Customer Care (production)): SMS URL {OLD_URL}, fallback URL (empty)"
    ) in text
    assert "Configure 1 number(s) in Twilio? [y/N]: n" in text
    assert "Nothing was changed in Twilio." in text
    assert twilio.number_updates == []

    code, lines = run(app, "twilio-configure", "--domain", CARE, input="y\n")
    assert code == 0
    assert cells(lines)[-3:] == [
        [CARE_NUMBER, "Customer Care (production)", "configured", "updated now"],
        [AGENT_NUMBER, "Customer Care (production)", "configured"],
        ["2 configured."],
    ]
    assert twilio.number(CARE_NUMBER)["sms_url"] == bound.urls.request_url  # type: ignore[index]


def test_cli_configure_yes_for_every_domain(
    app: Flask, bound: Bound, twilio: TwilioStandIn
) -> None:
    for number in (CARE_NUMBER, AGENT_NUMBER, SALES_NUMBER):
        twilio.add_number(number)
    code, lines = run(app, "twilio-configure", "--yes")
    assert code == 0
    assert [line[0] for line in cells(lines) if line[-1] == "updated now"] == [
        CARE_NUMBER, AGENT_NUMBER, SALES_NUMBER
    ]
    assert len(twilio.number_updates) == 3
    code, lines = run(app, "twilio-configure", "--yes")
    assert code == 0 and ["Nothing to configure in Twilio."] in cells(lines)
    assert len(twilio.number_updates) == 3


def test_cli_reports_errors_and_exits_1(app: Flask, bound: Bound, twilio: TwilioStandIn) -> None:
    twilio.auth_token = "another-token"
    result = app.test_cli_runner().invoke(args=["xsms", "twilio-configure", "--yes"])
    assert result.exit_code == 1
    assert "couldn't check" in result.output
    assert "Twilio refused the account's credentials (HTTP 401, error 20003)" in result.output
    assert AUTH_TOKEN not in result.output and "another-token" not in result.output
    assert twilio.number_updates == []


def test_cli_without_numbers_or_with_an_unknown_domain(app: Flask, twilio: TwilioStandIn) -> None:
    assert run(app, "twilio-check") == (0, [["No numbers are bound."]])
    code, lines = run(app, "twilio-check", "--domain", "99")
    assert code == 1 and lines == [["Error: There is no IA Domain with id '99'."]]
