"""WhatsApp senders bound as Twilio writes them (``whatsapp:+14155238886``): the number rules,
the JSON API, the CLI and the Twilio check, which leaves them to the Twilio console."""
from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import NumberError
from flask_xsms import RowError
from flask_xsms import twilio_setup
from flask_xsms._extension import get_state
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import webhook_urls
from flask_xsms.models import NumberBinding
from flask_xsms.numbers import describe
from flask_xsms.numbers import normalize_number
from flask_xsms.numbers import PLUS_SIGN_REQUIRED
from flask_xsms.numbers import WHATSAPP_NUMBER_REQUIRED

from .hostapp import Directory
from .test_numbers import errors_of
from .test_numbers import save
from .test_numbers import saved
from .pages import parse
from .twilio_server import TwilioStandIn

CARE, SALES, CARE_STAGING, HELPDESK = "1", "2", "3", "4"
NUMBER = "+14155238886"
SENDER = "whatsapp:" + NUMBER
OLD_URL = "https://old.example.com/sms"
ACCEPTED = (
    "Use a phone number (+14155550100), a WhatsApp sender (whatsapp:+14155550100) or a"
    " Messaging Service SID (MG and 32 characters)."
)


# -- the rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "whatsapp:+14155238886",
        "WhatsApp:+14155238886",
        "WHATSAPP:+14155238886",
        "whatsapp: +1 415 523 8886",
        "  WhatsApp:  +1 (415) 523-8886 ",
        "whatsapp:+1.415.523.8886",
    ],
)
def test_a_whatsapp_sender_is_normalised_with_a_lower_case_prefix(typed: str) -> None:
    assert normalize_number(typed) == SENDER


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("whatsapp:14155238886", PLUS_SIGN_REQUIRED),
        ("WhatsApp: 415 523 8886", PLUS_SIGN_REQUIRED),
        ("whatsapp:", WHATSAPP_NUMBER_REQUIRED),
        ("whatsapp:   ", WHATSAPP_NUMBER_REQUIRED),
        ("whatsapp:+1415555", "whatsapp:+1415555 is not a valid phone number."),
        ("WhatsApp:+1 800 FLOWERS", "WhatsApp:+1 800 FLOWERS is not a valid phone number."),
        ("whatsapp:+1 415 523 8886 x2", "whatsapp:+1 415 523 8886 x2 is not a valid phone number."),
        ("messenger:+14155238886", f"messenger: addresses are not supported. {ACCEPTED}"),
        ("Messenger:someone", f"messenger: addresses are not supported. {ACCEPTED}"),
        ("sms:+14155238886", f"sms: addresses are not supported. {ACCEPTED}"),
    ],
    ids=[
        "no-plus", "no-plus-spaces", "empty", "blank", "too-short", "letters", "extension",
        "messenger", "messenger-name", "sms-prefix",
    ],
)
def test_a_bad_whatsapp_sender_or_another_prefix_is_refused_in_the_rules_words(
    typed: str, message: str
) -> None:
    with pytest.raises(NumberError) as info:
        normalize_number(typed)
    assert str(info.value) == message


def test_numbers_and_services_are_unchanged() -> None:
    assert normalize_number("+1 415 523 8886") == NUMBER
    assert normalize_number("MG" + "AB12" * 8) == "MG" + "ab12" * 8
    with pytest.raises(NumberError, match="^Phone numbers need to start with a \\+ sign.$"):
        normalize_number("415 523 8886")


def test_describe_names_a_whatsapp_sender() -> None:
    assert describe(SENDER) == "WhatsApp sender whatsapp:+14155238886"
    assert describe(NUMBER) == NUMBER


def test_a_whatsapp_sender_is_saved_normalised(app: Flask, directory: Directory) -> None:
    (binding,) = save(directory, CARE, ("WhatsApp: +1 415 523 8886", "11"))
    assert saved(directory, CARE) == [(SENDER, "11")]
    assert not binding.is_messaging_service


def test_twice_in_one_domain_is_refused(app: Flask, directory: Directory) -> None:
    errors = errors_of(directory, CARE, (SENDER, "11"), ("WhatsApp: +1 415 523 8886", "12"))
    assert errors == [
        RowError(1, "phone_number", f"WhatsApp sender {SENDER} is already used in this IA Domain.")
    ]
    assert saved(directory, CARE) == []


@pytest.mark.parametrize(
    ("domain_id", "application_id"),
    [(SALES, "21"), (CARE_STAGING, "31")],
    ids=["domain", "environment"],
)
def test_used_in_another_domain_of_the_account_is_refused_naming_it(
    app: Flask, directory: Directory, domain_id: str, application_id: str
) -> None:
    save(directory, CARE, (SENDER, "11"))
    assert errors_of(directory, domain_id, ("whatsapp:+1 415 523 8886", application_id)) == [
        RowError(
            0,
            "phone_number",
            f"WhatsApp sender {SENDER} is already used in the IA Domain"
            " Customer Care (production).",
        )
    ]
    assert saved(directory, domain_id) == []


def test_the_bare_number_stays_free_for_sms(app: Flask, directory: Directory) -> None:
    # Same domain, another application.
    save(directory, CARE, (SENDER, "11"), (NUMBER, "12"))
    assert saved(directory, CARE) == [(SENDER, "11"), (NUMBER, "12")]
    # Or another domain: the number for SMS there, the WhatsApp sender here.
    save(directory, CARE, (SENDER, "11"))
    save(directory, SALES, (NUMBER, "21"))
    assert saved(directory, SALES) == [(NUMBER, "21")]
    # And the other way round: a bound SMS number does not take its WhatsApp sender.
    save(directory, CARE)
    save(directory, CARE_STAGING, (SENDER, "31"))
    assert saved(directory, CARE_STAGING) == [(SENDER, "31")]


def test_another_account_may_use_the_same_sender(app: Flask, directory: Directory) -> None:
    save(directory, CARE, (SENDER, "11"))
    save(directory, HELPDESK, (SENDER, "41"))
    assert saved(directory, HELPDESK) == [(SENDER, "41")]


def test_the_database_keeps_the_full_address_once_per_account(
    app: Flask, directory: Directory
) -> None:
    """``phone_number`` is wide enough for any ``whatsapp:`` + E.164 address (15 digits), and
    its unique constraint holds for the address: no migration was needed."""
    column = NumberBinding.__table__.c.phone_number
    assert column.type.length >= len("whatsapp:+") + 15
    save(directory, CARE, (SENDER, "11"))
    session = get_state().session
    staging = create_integration(directory.domains[CARE_STAGING])
    assert staging is not None

    def add(number: str) -> None:
        session.add(
            NumberBinding(
                integration_id=staging.id,
                account_id="acme",
                environment="staging",
                domain_id=CARE_STAGING,
                application_id="31",
                phone_number=number,
            )
        )
        session.commit()

    add(NUMBER)  # the bare number is another address
    with pytest.raises(sa.exc.IntegrityError):
        add(SENDER)
    session.rollback()
    longest = "whatsapp:+" + "9" * 15
    add(longest)  # PostgreSQL checks the length; SQLite does not
    assert session.scalar(sa.select(NumberBinding.phone_number).filter_by(phone_number=longest))


# -- settings page, JSON API and CLI --------------------------------------------------


def test_the_settings_page_saves_and_shows_the_sender(
    app: Flask, client: FlaskClient, directory: Directory
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    url = f"/xsms/domains/{CARE}/twilio-sms"
    response = client.post(
        url,
        data={
            "numbers-0-phone_number": "WhatsApp: +1 415 523 8886",
            "numbers-0-application": "11",
            "numbers-1-phone_number": "whatsapp:415",
            "numbers-1-application": "12",
        },
    )
    page = parse(response.text)
    field = page.find("input", id="numbers-1-phone_number")
    assert field["aria-invalid"] == "true"
    assert page.find(id=field["aria-describedby"]).text.strip() == PLUS_SIGN_REQUIRED
    assert saved(directory, CARE) == []

    response = client.post(
        url,
        data={"numbers-0-phone_number": "WhatsApp: +1 415 523 8886", "numbers-0-application": "11"},
    )
    assert response.status_code == 302
    page = parse(client.get(url).text)
    field = page.find("input", id="numbers-0-phone_number")
    assert field["value"] == SENDER
    assert page.find("label", **{"for": "numbers-0-phone_number"}).text == "Phone Number"
    assert "whatsapp:+14155238886" in page.find("form", data_xsms_settings=True).text


def test_the_json_api_takes_and_lists_the_sender(client: FlaskClient, directory: Directory) -> None:
    url = f"/xsms/api/domains/{CARE}/numbers"
    rows = [
        {"phone_number": "WhatsApp: +1 415 523 8886", "application_id": "11"},
        {"phone_number": NUMBER, "application_id": "12"},
    ]
    response = client.put(url, json={"numbers": rows})
    assert response.status_code == 200
    expected = [
        {"phone_number": SENDER, "application_id": "11", "messaging_service": False},
        {"phone_number": NUMBER, "application_id": "12", "messaging_service": False},
    ]
    assert response.json["numbers"] == expected
    assert client.get(url).json["numbers"] == expected

    bad = [
        {"phone_number": "whatsapp:14155238886", "application_id": "11"},
        {"phone_number": "messenger:+14155238886", "application_id": "11"},
        {"phone_number": SENDER, "application_id": "12"},
        {"phone_number": "whatsapp:+1 415 523 8886", "application_id": "12"},
    ]
    response = client.put(url, json={"numbers": bad})
    assert response.status_code == 400
    assert [(e["row"], e["field"], e["message"]) for e in response.json["errors"]] == [
        (0, "phone_number", PLUS_SIGN_REQUIRED),
        (1, "phone_number", f"messenger: addresses are not supported. {ACCEPTED}"),
        (3, "phone_number", f"WhatsApp sender {SENDER} is already used in this IA Domain."),
    ]
    assert client.get(url).json["numbers"] == expected


def test_the_cli_lists_the_sender(app: Flask, directory: Directory) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    with app.app_context():
        save(directory, CARE, (SENDER, "11"), (NUMBER, "12"))
        hook = create_integration(directory.domains[CARE]).webhook_id  # type: ignore[union-attr]
    result = app.test_cli_runner().invoke(args=["xsms", "numbers", "--domain", CARE])
    assert result.exit_code == 0
    lines = [line.split() for line in result.output.splitlines()]
    assert lines[1:] == [
        ["WhatsApp", "sender", SENDER, "Customer", "Care", "(production)", "Care", "Assistant",
         f"https://sms.example.com/xsms/hooks/{hook}/sms"],
        [NUMBER, "Customer", "Care", "(production)", "Care", "Agent", "Helper",
         f"https://sms.example.com/xsms/hooks/{hook}/sms"],
    ]


# -- Check in Twilio / Configure in Twilio --------------------------------------------


@pytest.fixture
def with_sender(app: Flask, directory: Directory, twilio_api: TwilioStandIn) -> TwilioStandIn:
    """Customer Care binds the WhatsApp sender and, for SMS, the same number, which the
    account has in Twilio with someone else's SMS URL."""
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    twilio_api.auth_token = "test-auth-token"
    twilio_api.add_number(NUMBER, sms_url=OLD_URL)
    with app.app_context():
        save(directory, CARE, (SENDER, "11"), (NUMBER, "12"))
    return twilio_api


def urls_of(app: Flask, directory: Directory) -> t.Any:
    with app.app_context():
        integration = create_integration(directory.domains[CARE])
        assert integration is not None
        return webhook_urls(integration)


def asked_about(twilio: TwilioStandIn) -> list[tuple[str, str]]:
    """What the stand-in was asked: (method, the number looked up or the path updated)."""
    return [(r.method, r.query.get("PhoneNumber") or r.path) for r in twilio.requests]


def test_check_leaves_the_sender_to_the_twilio_console(
    app: Flask, directory: Directory, with_sender: TwilioStandIn
) -> None:
    urls = urls_of(app, directory)
    with app.app_context():
        sender, sms = twilio_setup.check(CARE)
    assert (sms.phone_number, sms.state) == (NUMBER, twilio_setup.NOT_CONFIGURED)
    assert sender.phone_number == SENDER and sender.in_console and not sender.ok
    assert sender.state == twilio_setup.UNKNOWN and sender.twilio is None
    assert (sender.request_url, sender.fallback_url) == (urls.request_url, urls.fallback_url)
    assert sender.error is not None and sender.error.reason == twilio_setup.WHATSAPP
    assert sender.error.message == (
        "a WhatsApp sender is configured in the Twilio console (Messaging → Senders →"
        " WhatsApp senders, or on its Messaging Service): set its webhook for incoming"
        f" messages to the Request URL {urls.request_url} and its fallback URL to the"
        f" Fallback URL {urls.fallback_url}, both HTTP POST."
    )
    assert sender.summary == (
        "Set in the Twilio console, not from here: in Messaging → Senders → WhatsApp senders,"
        " paste this page's Request URL and Fallback URL into the sender's webhook fields"
        " (HTTP POST)."
    )
    assert sender.overwrites == "nothing: a WhatsApp sender is configured in the Twilio console"
    # Only the SMS number was looked up.
    assert asked_about(with_sender) == [("GET", NUMBER)]


def test_configure_sets_the_sms_number_and_never_the_sender(
    app: Flask, directory: Directory, with_sender: TwilioStandIn
) -> None:
    urls = urls_of(app, directory)
    with app.app_context():
        results = twilio_setup.configure(CARE)
    assert [(r.phone_number, r.state, r.changed, r.in_console) for r in results] == [
        (SENDER, twilio_setup.UNKNOWN, False, True),
        (NUMBER, twilio_setup.CONFIGURED, True, False),
    ]
    (update,) = with_sender.number_updates
    assert update.form["SmsUrl"] == urls.request_url
    assert with_sender.number(NUMBER)["sms_url"] == urls.request_url  # type: ignore[index]
    assert all("whatsapp" not in str(r.query) + r.path for r in with_sender.requests)

    with_sender.requests.clear()
    with app.app_context():
        (only,) = twilio_setup.configure(CARE, numbers=["WhatsApp: +1 415 523 8886"])
    assert only.phone_number == SENDER and only.in_console and not only.changed
    assert with_sender.requests == []


def test_the_status_and_configure_endpoints_answer_for_the_sender(
    app: Flask, client: FlaskClient, directory: Directory, with_sender: TwilioStandIn
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    base = f"/xsms/domains/{CARE}/twilio-sms"
    sender, sms = client.get(f"{base}/twilio-status").json["numbers"]
    assert (sender["phone_number"], sender["state"], sender["ok"]) == (SENDER, "unknown", False)
    assert sender["error"]["reason"] == "whatsapp" and sender["twilio"] is None
    assert sender["request_url"].endswith("/sms") and sender["fallback_url"].endswith("/fallback")
    assert sender["summary"].startswith("Set in the Twilio console, not from here")
    assert sms["state"] == "not_configured"

    response = client.post(f"{base}/twilio-configure", data={"phone_number": SENDER})
    assert response.status_code == 200
    (answer,) = response.json["numbers"]
    assert (answer["phone_number"], answer["changed"]) == (SENDER, False)
    assert with_sender.number_updates == []
    assert asked_about(with_sender) == [("GET", NUMBER)]


def test_the_cli_check_and_configure_show_the_urls_to_paste(
    app: Flask, directory: Directory, with_sender: TwilioStandIn
) -> None:
    urls = urls_of(app, directory)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["xsms", "twilio-check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    (sender_line,) = [line for line in lines if line.startswith(SENDER)]
    assert "set in the Twilio console" in sender_line
    assert f"Request URL {urls.request_url}" in sender_line
    assert f"Fallback URL {urls.fallback_url}" in sender_line
    assert lines[-1] == "1 not configured, 1 set in the Twilio console."

    result = runner.invoke(args=["xsms", "twilio-configure", "--yes"])
    assert result.exit_code == 1  # the sender still waits for the Twilio console
    assert f"{NUMBER} (Customer Care (production))" in result.output
    assert f"{SENDER} (" not in result.output  # not among what is replaced
    assert result.output.splitlines()[-1] == "1 configured, 1 set in the Twilio console."
    assert len(with_sender.number_updates) == 1
    assert all("whatsapp" not in str(r.query) + r.path for r in with_sender.requests)
