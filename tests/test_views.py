from __future__ import annotations

import datetime as dt
import logging
import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader

from flask_xsms import Application
from flask_xsms import Domain
from flask_xsms import Pair
from flask_xsms import XSMS
from flask_xsms._extension import get_state
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import webhook_urls
from flask_xsms.models import Message
from flask_xsms.numbers import bindings_of
from flask_xsms.numbers import PLUS_SIGN_REQUIRED
from flask_xsms.numbers import replace_bindings
from flask_xsms._views import EXPIRED_MESSAGE
from flask_xsms._views import NO_SUCH_PAGE
from flask_xsms._views import NOT_A_PAGE
from flask_xsms._views import NOT_SAVED_MESSAGE
from flask_xsms._views import SAVED_MESSAGE

from .hostapp import CUSTOMER
from .hostapp import Directory
from .pages import parse
from .pages import settings_rows

CARE, SALES, CARE_STAGING, HELPDESK = "1", "2", "3", "4"
AUTH_TOKEN = "test-auth-token"


@pytest.fixture(autouse=True)
def _no_csrf_token(app: Flask) -> None:
    # The CSRF token has its own tests below; the others post the form without one.
    app.config["WTF_CSRF_ENABLED"] = False


def settings_url(domain_id: str) -> str:
    return f"/xsms/domains/{domain_id}/twilio-sms"


def post_rows(client: FlaskClient, domain_id: str, *rows: tuple[str, str], **extra: str) -> t.Any:
    data = {}
    for i, (number, application) in enumerate(rows):
        data[f"numbers-{i}-phone_number"] = number
        data[f"numbers-{i}-application"] = application
    data.update(extra)
    return client.post(settings_url(domain_id), data=data)


def saved(directory: Directory, domain_id: str) -> list[tuple[str, str]]:
    return [(b.phone_number, b.application_id) for b in bindings_of(directory.domains[domain_id])]


def bind(directory: Directory, domain_id: str, *pairs: tuple[str, str]) -> None:
    replace_bindings(directory.domains[domain_id], [Pair(n, a) for n, a in pairs])


# -- Integrations panel ------------------------------------------------------------------


def test_integrations_panel_links_twilio_sms_with_the_number_count(
    client: FlaskClient, directory: Directory
) -> None:
    page = parse(client.get(f"/xsms/domains/{CARE}/integrations").text)
    link = page.find("a", class_="xsms-integration-name")
    assert link.text == "Twilio SMS"
    assert link["href"] == settings_url(CARE)
    assert page.find(data_xsms_number_count=True).text == "0 numbers bound"

    bind(directory, CARE, ("+14155550100", "11"))
    page = parse(client.get(f"/xsms/domains/{CARE}/integrations").text)
    assert page.find(data_xsms_number_count=True).text == "1 number bound"

    bind(directory, CARE, ("+14155550100", "11"), ("+14155550101", "12"))
    page = parse(client.get(f"/xsms/domains/{CARE}/integrations").text)
    assert page.find(data_xsms_number_count=True).text == "2 numbers bound"
    assert page.find("a", href=f"{settings_url(CARE)}/messages")


# -- Settings page: what it shows ----------------------------------------------------------


def test_settings_page_shows_saved_pairs_in_e164_and_order(
    client: FlaskClient, directory: Directory
) -> None:
    bind(directory, CARE, ("+1 (415) 555-0101", "12"), ("+14155550100", "11"))
    response = client.get(settings_url(CARE))
    assert response.status_code == 200
    rows = settings_rows(response.text)
    assert [(r.phone_number, r.application) for r in rows] == [
        ("+14155550101", "12"),
        ("+14155550100", "11"),
    ]
    assert all(not r.phone_errors and not r.application_errors for r in rows)


def test_dropdown_offers_only_customer_and_agent_assistants(client: FlaskClient) -> None:
    page = parse(client.get(settings_url(CARE)).text)
    template = page.find("template", data_xsms_row_template=True)
    select = template.find("select")
    options = [(o["value"], o.text) for o in select.find_all("option")]
    assert options == [
        ("", "Choose an application"),
        ("11", "Care Assistant"),
        ("12", "Care Agent Helper"),
    ]
    assert "Care Widget" not in client.get(settings_url(CARE)).text


def test_a_domain_without_bindable_applications_says_so(
    client: FlaskClient, directory: Directory
) -> None:
    directory.applications[HELPDESK] = [Application("42", "Helpdesk Widget", "Web Widget")]
    html = client.get(settings_url(HELPDESK)).text
    assert "has no Customer Assistant or Agent Assistant application" in html
    options = parse(html).find("template").find_all("option")
    assert [o.text for o in options] == ["Choose an application"]


def test_settings_page_has_the_products_words_and_labels(client: FlaskClient) -> None:
    html = client.get(settings_url(CARE)).text
    page = parse(html)
    buttons = [b.text or b.get("aria-label") for b in page.find_all("button")]
    assert "Add Number" in buttons
    assert "Save" in buttons
    delete = page.find("template").find("button", data_xsms_delete=True)
    assert delete["aria-label"] == "Delete"
    assert delete["type"] == "button"
    assert delete.find("svg")["aria-hidden"] == "true"
    # The form's only submit button is Save, so Enter in a field saves instead of deleting a row.
    form = page.find("form", data_xsms_settings=True)
    submits = [b for b in form.find_all("button") if b.get("type") == "submit"]
    assert [b.text for b in submits] == ["Save"]
    cancel = page.find("a", data_xsms_cancel=True)
    assert cancel.text == "Cancel"
    assert cancel["href"] == f"/xsms/domains/{CARE}/integrations"
    # Save is last: the lower right of the panel.
    actions = page.find("div", class_="xsms-actions")
    assert [n.text for n in actions.find_all()] == ["Cancel", "Save"]
    # Every row field has a label with the product's words.
    template = page.find("template")
    for field, label in (("input", "Phone Number"), ("select", "Application")):
        element = template.find(field)
        assert template.find("label", **{"for": element["id"]}).text == label
    assert "must be bought" in html or "Buy the numbers" in html
    assert "start with a" in html and "<strong>+</strong> sign" in html


def test_settings_page_shows_the_webhook_urls(
    app: Flask, client: FlaskClient, directory: Directory
) -> None:
    html = client.get(settings_url(CARE)).text
    page = parse(html)
    urls = webhook_urls(create_integration(directory.domains[CARE]))
    fields = page.find_all("input", readonly=True)
    assert [(f["id"], f["value"]) for f in fields] == [
        ("xsms-request-url", urls.request_url),
        ("xsms-fallback-url", urls.fallback_url),
        ("xsms-status-callback-url", urls.status_callback_url),
    ]
    assert urls.request_url.startswith("http://localhost/xsms/hooks/")
    for field, label in zip(fields, ["Request URL", "Fallback URL", "Status callback URL"]):
        assert page.find("label", **{"for": field["id"]}).text == label
        assert field.get("name") is None  # not part of the saved form
        copy = page.find("button", data_xsms_copy=field["id"])
        assert copy.text == "Copy"
    status = page.by_id("xsms-status-callback-url")
    details = [a for a in status.ancestors() if a.tag == "details"]
    assert details and details[0].find("summary").text == "Advanced"
    assert not [a for a in page.by_id("xsms-request-url").ancestors() if a.tag == "details"]
    # The two Twilio steps: incoming message field, fail handler field.
    steps = page.find("ol", class_="xsms-steps").find_all("li")
    assert "Request URL" in steps[0].text and "incoming message" in steps[0].text
    assert "Fallback URL" in steps[1].text and "fail handler" in steps[1].text


def test_webhook_urls_follow_the_public_base_url(
    app: Flask, client: FlaskClient, directory: Directory
) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    page = parse(client.get(settings_url(CARE)).text)
    assert page.by_id("xsms-request-url")["value"].startswith("https://sms.example.com/xsms/hooks/")


# -- Settings page: saving -----------------------------------------------------------------


def test_save_normalises_redirects_and_flashes(client: FlaskClient, directory: Directory) -> None:
    response = post_rows(client, CARE, ("+1 (415) 555-0100", "11"), ("+44 20 7946 0958", "12"))
    assert response.status_code == 302
    assert response.location == settings_url(CARE)
    assert saved(directory, CARE) == [("+14155550100", "11"), ("+442079460958", "12")]
    page = parse(client.get(response.location).text)
    assert page.find("p", role="status", class_="xsms-flash").text == SAVED_MESSAGE
    rows = settings_rows(client.get(settings_url(CARE)).text)
    assert [(r.phone_number, r.application) for r in rows] == saved(directory, CARE)


def test_save_keeps_row_order_across_index_gaps(client: FlaskClient, directory: Directory) -> None:
    # Rows deleted in the browser leave gaps in the field indices.
    response = client.post(
        settings_url(CARE),
        data={
            "numbers-7-phone_number": "+14155550107",
            "numbers-7-application": "12",
            "numbers-2-phone_number": "+14155550102",
            "numbers-2-application": "11",
        },
    )
    assert response.status_code == 302
    assert saved(directory, CARE) == [("+14155550102", "11"), ("+14155550107", "12")]


def test_saving_no_rows_removes_every_pair(client: FlaskClient, directory: Directory) -> None:
    bind(directory, CARE, ("+14155550100", "11"))
    response = client.post(settings_url(CARE), data={})
    assert response.status_code == 302
    assert saved(directory, CARE) == []


def test_changing_and_removing_pairs(client: FlaskClient, directory: Directory) -> None:
    bind(directory, CARE, ("+14155550100", "11"), ("+14155550101", "12"))
    assert post_rows(client, CARE, ("+14155550101", "11")).status_code == 302
    assert saved(directory, CARE) == [("+14155550101", "11")]


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (("4155550100", "11"), "phone", PLUS_SIGN_REQUIRED),
        (("", "11"), "phone", "Enter a phone number."),
        (("+1415555", "11"), "phone", "+1415555 is not a valid phone number."),
        (("+14155550100", ""), "application", "Choose an application."),
        (
            ("+14155550100", "13"),
            "application",
            "Only Customer Assistant and Agent Assistant applications can be bound"
            " to a phone number.",
        ),
        (
            ("+14155550100", "21"),
            "application",
            "This application is not in the IA Domain Customer Care (production).",
        ),
    ],
)
def test_a_bad_row_is_refused_inline_keeping_typed_values(
    client: FlaskClient, directory: Directory, row: tuple[str, str], field: str, message: str
) -> None:
    bind(directory, CARE, ("+14155550199", "12"))
    good = ("+1 415 555 0101", "12")
    response = post_rows(client, CARE, good, row)
    assert response.status_code == 200
    page = parse(response.text)
    assert page.by_id("xsms-form-errors").text == NOT_SAVED_MESSAGE
    assert page.by_id("xsms-form-errors")["role"] == "alert"
    rows = settings_rows(response.text)
    # The operator's values stay as typed, the good row without an error.
    assert [(r.phone_number, r.application) for r in rows] == [good, row]
    assert rows[0].phone_errors == [] and rows[0].application_errors == []
    errors = rows[1].phone_errors if field == "phone" else rows[1].application_errors
    assert errors == [message]
    # Nothing was saved.
    assert saved(directory, CARE) == [("+14155550199", "12")]
    # The page says its edits are unsaved, so leaving it warns.
    assert "data-xsms-unsaved" in page.find("form", data_xsms_settings=True).attrs


def test_every_bad_row_says_why(client: FlaskClient, directory: Directory) -> None:
    response = post_rows(
        client, CARE, ("14155550100", ""), ("+14155550101", "11"), ("+1 415 555 0101", "13")
    )
    rows = settings_rows(response.text)
    assert rows[0].phone_errors == [PLUS_SIGN_REQUIRED]
    assert rows[0].application_errors == ["Choose an application."]
    assert rows[1].phone_errors == []
    assert rows[2].phone_errors == ["+14155550101 is already used in this IA Domain."]
    assert rows[2].application_errors[0].startswith("Only Customer Assistant")
    # Each error is tied to its field for assistive technology.
    page = parse(response.text)
    field = page.by_id("numbers-0-phone_number")
    assert field["aria-invalid"] == "true"
    assert page.by_id(field["aria-describedby"]).text == PLUS_SIGN_REQUIRED
    assert saved(directory, CARE) == []


def test_number_of_another_environment_is_refused_naming_it(
    client: FlaskClient, directory: Directory
) -> None:
    bind(directory, CARE_STAGING, ("+14155550100", "31"))
    rows = settings_rows(post_rows(client, CARE, ("+1 415 555 0100", "11")).text)
    assert rows[0].phone_errors == [
        "+14155550100 is already used in the IA Domain Customer Care (staging)."
    ]
    assert saved(directory, CARE) == []


def test_number_of_another_domain_is_refused_naming_it(
    client: FlaskClient, directory: Directory
) -> None:
    bind(directory, SALES, ("+14155550100", "21"))
    rows = settings_rows(post_rows(client, CARE, ("+14155550100", "11")).text)
    assert rows[0].phone_errors == [
        "+14155550100 is already used in the IA Domain Sales (production)."
    ]


def test_another_account_may_use_the_same_number(
    client: FlaskClient, directory: Directory
) -> None:
    bind(directory, CARE, ("+14155550100", "11"))
    assert post_rows(client, HELPDESK, ("+14155550100", "41")).status_code == 302
    assert saved(directory, HELPDESK) == [("+14155550100", "41")]


def test_a_saved_application_that_is_no_longer_bindable_stays_visible(
    client: FlaskClient, directory: Directory
) -> None:
    bind(directory, CARE, ("+14155550100", "12"))
    directory.applications[CARE][1] = Application("12", "Care Agent Helper", "Web Widget")
    response = client.get(settings_url(CARE))
    page = parse(response.text)
    select = page.by_id("numbers-0-application")
    assert select.find("option", selected=True)["value"] == "12"
    rows = settings_rows(post_rows(client, CARE, ("+14155550100", "12")).text)
    assert rows[0].application_errors[0].startswith("Only Customer Assistant")


# -- CSRF ----------------------------------------------------------------------------------


def test_form_without_csrf_token_saves_nothing(
    app: Flask, client: FlaskClient, directory: Directory
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = post_rows(client, CARE, ("+14155550100", "11"))
    assert response.status_code == 400
    assert EXPIRED_MESSAGE in parse(response.text).by_id("xsms-form-errors").text
    assert settings_rows(response.text)[0].phone_number == "+14155550100"
    assert saved(directory, CARE) == []

    token = parse(client.get(settings_url(CARE)).text).find("input", name="csrf_token")["value"]
    response = post_rows(client, CARE, ("+14155550100", "11"), csrf_token=token)
    assert response.status_code == 302
    assert saved(directory, CARE) == [("+14155550100", "11")]


def test_host_csrf_protection_covers_the_settings_form(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    response = client.post(
        settings_url(CARE),
        data={"numbers-0-phone_number": "+14155550100", "numbers-0-application": "11"},
    )
    assert response.status_code == 400
    assert "CSRF" in response.text
    with csrf_app.app_context():
        assert bindings_of(csrf_app.extensions["test_directory"].domains[CARE]) == []
    # With the page's own token the save goes through.
    token = parse(client.get(settings_url(CARE)).text).find("input", name="csrf_token")["value"]
    response = client.post(
        settings_url(CARE),
        data={
            "csrf_token": token,
            "numbers-0-phone_number": "+14155550100",
            "numbers-0-application": "11",
        },
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "body",
    ["[1]", "false", '"text"', "null", '{"numbers-0-phone_number": "+1", "csrf_token": 1}'],
)
def test_a_json_body_is_no_form(app: Flask, directory: Directory, body: str) -> None:
    # Flask-WTF would read JSON as form data, and fail on anything but an object.
    app.config["WTF_CSRF_ENABLED"] = True
    bind(directory, CARE, ("+14155550199", "11"))
    client = app.test_client()
    response = client.post(settings_url(CARE), data=body, content_type="application/json")
    assert response.status_code == 400
    assert EXPIRED_MESSAGE in response.text
    response = client.post(
        f"{settings_url(CARE)}/test-webhook", data=body, content_type="application/json"
    )
    assert response.status_code == 302
    assert saved(directory, CARE) == [("+14155550199", "11")]


# -- Permissions ---------------------------------------------------------------------------

PAGES = [
    ("GET", "/xsms/domains/{}/integrations"),
    ("GET", "/xsms/domains/{}/twilio-sms"),
    ("POST", "/xsms/domains/{}/twilio-sms"),
    ("GET", "/xsms/domains/{}/twilio-sms/messages"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_unknown_domain_is_404(client: FlaskClient, method: str, url: str) -> None:
    assert client.open(url.format("999"), method=method).status_code == 404
    assert client.open(url.format("not-an-id"), method=method).status_code == 404


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_refused_domain_is_403_and_saves_nothing(
    client: FlaskClient, directory: Directory, method: str, url: str
) -> None:
    directory.allowed = {SALES}
    response = client.open(
        url.format(CARE),
        method=method,
        data={"numbers-0-phone_number": "+14155550100", "numbers-0-application": "11"},
    )
    assert response.status_code == 403
    assert saved(directory, CARE) == []
    assert client.open(url.format(SALES), method="GET").status_code == 200


def test_without_a_permission_handler_every_page_is_403(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="x", SQLALCHEMY_DATABASE_URI=database_url)
    db = SQLAlchemy(app)
    xsms = XSMS(app, db=db)
    domain = Domain("1", "Customer Care", "acme", "production")
    xsms.domain_loader(lambda domain_id: domain if domain_id == "1" else None)
    xsms.applications_loader(lambda d: [Application("11", "Care Assistant", CUSTOMER)])
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_xsms"):
        for method, url in PAGES:
            assert client.open(url.format("1"), method=method).status_code == 403
        assert client.get("/xsms/api/domains/1/numbers").status_code == 403
    assert "@xsms.permission_handler" in caplog.text
    with app.app_context():
        db.engine.dispose()


# -- Security and look --------------------------------------------------------------------


def test_no_page_shows_the_auth_token(client: FlaskClient, directory: Directory) -> None:
    bind(directory, CARE, ("+14155550100", "11"))
    add_message(directory, CARE, body="hello")
    for _, url in PAGES[:2] + PAGES[3:]:
        assert AUTH_TOKEN not in client.get(url.format(CARE)).text
    assert AUTH_TOKEN not in post_rows(client, CARE, ("4155550100", "11")).text


def test_names_are_escaped(app: Flask, client: FlaskClient, directory: Directory) -> None:
    evil = "<script>alert(1)</script>"
    directory.add(
        Domain("9", evil, "acme", "<b>env</b>"),
        Application("91", evil, CUSTOMER),
        Application("92", '"><img src=x onerror=alert(1)>', CUSTOMER),
    )
    bind(directory, "9", ("+14155550100", "91"))
    add_message(directory, "9", body=evil, application_id="91")
    for url in (
        "/xsms/domains/9/integrations",
        "/xsms/domains/9/twilio-sms",
        "/xsms/domains/9/twilio-sms/messages",
    ):
        html = client.get(url).text
        assert "<script>alert" not in html
        assert "<b>env</b>" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    response = post_rows(client, "9", (evil, "92"))
    assert "<script>alert" not in response.text
    assert settings_rows(response.text)[0].phone_number == evil


def test_pages_extend_the_configured_base_template(app: Flask, client: FlaskClient) -> None:
    app.jinja_loader = DictLoader(  # type: ignore[method-assign]
        {
            "host.html": "<html><head>{% block head %}{% endblock %}</head><body>"
            "<nav>HOST NAV</nav><h1>{% block title %}{% endblock %}</h1>"
            "{% block content %}{% endblock %}</body></html>"
        }
    )
    app.config["XSMS_BASE_TEMPLATE"] = "host.html"
    for url in ("integrations", "twilio-sms", "twilio-sms/messages"):
        html = client.get(f"/xsms/domains/{CARE}/{url}").text
        assert "HOST NAV" in html
    html = client.get(settings_url(CARE)).text
    assert "/xsms/static/xsms/settings.js" in html  # through the head block


def test_default_layout_and_static_files_work_offline(client: FlaskClient) -> None:
    html = client.get(settings_url(CARE)).text
    page = parse(html)
    assets = [n.get("href") for n in page.find_all("link")] + [
        n.get("src") for n in page.find_all("script")
    ]
    assert {"/xsms/static/xsms/xsms.css", "/xsms/static/xsms/settings.js"} <= set(assets)
    for asset in assets:
        assert asset is not None and asset.startswith("/xsms/static/xsms/")
        response = client.get(asset)
        assert response.status_code == 200
        response.close()
    assert not re.search(r"https?://(?!localhost)", html)


# -- Messages page -------------------------------------------------------------------------

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)


def add_message(directory: Directory, domain_id: str, **values: t.Any) -> Message:
    integration = create_integration(directory.domains[domain_id])
    fields: dict[str, t.Any] = dict(
        direction="inbound",
        from_number="+15005550006",
        to_number="+14155550100",
        body="",
        status="received",
        application_id="11",
        created_at=START,
    )
    fields.update(values)
    message = Message(integration_id=integration.id, **fields)
    session = get_state().session
    session.add(message)
    session.commit()
    return message


def message_rows(html: str) -> list[list[str]]:
    table = parse(html).find_all("table")
    if not table:
        return []
    return [[td.text for td in tr.find_all("td")] for tr in table[0].find("tbody").find_all("tr")]


def test_messages_newest_first_with_details(
    app: Flask, client: FlaskClient, directory: Directory
) -> None:
    bind(directory, CARE, ("+14155550100", "11"))
    conversation_id = None
    add_message(directory, CARE, body="Hi there", created_at=START)
    add_message(
        directory,
        CARE,
        direction="outbound",
        from_number="+14155550100",
        to_number="+15005550006",
        body="Hello! How can I help?",
        status="undelivered",
        error_code="30003",
        error_message="Unreachable destination handset",
        conversation_id=conversation_id,
        created_at=START + dt.timedelta(minutes=1),
        num_segments=2,
    )
    add_message(directory, SALES, body="not for Care", application_id="21")
    html = client.get(f"{settings_url(CARE)}/messages").text
    rows = message_rows(html)
    assert len(rows) == 2
    newest, oldest = rows
    assert newest[:5] == [
        "2026-01-05 09:01:00",
        "Outbound",
        "+14155550100",
        "+15005550006",
        "Care Assistant",
    ]
    assert "Hello! How can I help?" in newest[6] and "2 segments" in newest[6]
    assert newest[7] == "undelivered"
    assert newest[8] == "30003: Unreachable destination handset"
    assert oldest[1] == "Inbound" and oldest[6] == "Hi there" and oldest[7] == "received"
    assert "not for Care" not in html


def test_unrouted_messages_are_flagged(client: FlaskClient, directory: Directory) -> None:
    add_message(
        directory, CARE, to_number="+14155550199", status="unrouted", application_id=None
    )
    page = parse(client.get(f"{settings_url(CARE)}/messages").text)
    row = page.find("tbody").find("tr")
    assert "xsms-unrouted" in row["class"]
    assert "Unrouted" in row.text
    assert "No number binding knows +14155550199" in row.text


def test_messages_filter_by_number_normalised(client: FlaskClient, directory: Directory) -> None:
    add_message(directory, CARE, from_number="+15005550006", body="one")
    add_message(directory, CARE, from_number="+15005550009", body="two")
    add_message(
        directory, CARE, direction="outbound", from_number="+14155550100",
        to_number="+15005550006", body="three",
    )
    url = f"{settings_url(CARE)}/messages"
    bodies = lambda html: [r[6] for r in message_rows(html)]  # noqa: E731
    assert sorted(bodies(client.get(url, query_string={"number": "+1 (500) 555-0006"}).text)) == [
        "one",
        "three",
    ]
    assert bodies(client.get(url, query_string={"number": "+15005550009"}).text) == ["two"]
    html = client.get(url, query_string={"number": "+1 415 555 0123"}).text
    assert bodies(html) == []
    assert "No messages from or to this number." in html


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("garbage", "garbage is not a phone number. Phone numbers need to start with a + sign."),
        ("15005550006", "15005550006 is not a phone number. Phone numbers need to start with a"),
        ("+1 500", "+1 500 is not a valid phone number."),
        ("+1500555000\x00", "is not a valid phone number."),
        ("MG123", "MG123 is not a Messaging Service SID"),
        ("whatsapp:someone", "whatsapp:someone is not a phone number."),
    ],
)
def test_a_number_filter_that_is_not_a_number_says_so_and_shows_nothing(
    client: FlaskClient, directory: Directory, number: str, error: str
) -> None:
    add_message(directory, CARE, from_number="+15005550006", body="one")
    add_message(directory, CARE, from_number=number.replace("\x00", ""), body="as typed")
    response = client.get(f"{settings_url(CARE)}/messages", query_string={"number": number})
    assert response.status_code == 200
    page = parse(response.text)
    (alert,) = page.find_all(id="xsms-number-filter-error")
    assert error in alert.text
    assert "No messages are shown: correct the number, or click Show all." in alert.text
    field = page.find(id="xsms-number-filter")
    assert field["aria-invalid"] == "true"
    assert field["aria-describedby"] == "xsms-number-filter-error"
    assert field["value"] == number
    assert message_rows(response.text) == []
    assert "Show all" in [a.text for a in page.find_all("a")]
    assert "No messages yet." not in response.text
    assert "Messages from or to" not in response.text


def test_a_whatsapp_address_filters_its_messages(client: FlaskClient, directory: Directory) -> None:
    add_message(directory, CARE, from_number="whatsapp:+14155238886", body="on WhatsApp")
    add_message(directory, CARE, from_number="+14155238886", body="by SMS")
    url = f"{settings_url(CARE)}/messages"
    html = client.get(url, query_string={"number": "WhatsApp:+1 (415) 523-8886"}).text
    assert [r[6] for r in message_rows(html)] == ["on WhatsApp"]
    assert "Messages from or to whatsapp:+14155238886." in html


def test_messages_are_paginated(app: Flask, client: FlaskClient, directory: Directory) -> None:
    app.config["XSMS_MESSAGES_PER_PAGE"] = 2
    for i in range(5):
        add_message(directory, CARE, body=f"m{i}", created_at=START + dt.timedelta(minutes=i))
    url = f"{settings_url(CARE)}/messages"
    page1 = client.get(url).text
    assert [r[6] for r in message_rows(page1)] == ["m4", "m3"]
    older = parse(page1).find("a", rel="next")["href"]
    page2 = client.get(older).text
    assert [r[6] for r in message_rows(page2)] == ["m2", "m1"]
    assert "Page 2 of 3" in page2
    assert [r[6] for r in message_rows(client.get(url + "?page=3").text)] == ["m0"]
    assert [r[6] for r in message_rows(client.get(url + "?page=003").text)] == ["m0"]
    # The filter survives paging.
    filtered = client.get(url, query_string={"number": "+15005550006"}).text
    assert "number=%2B15005550006" in parse(filtered).find("a", rel="next")["href"]


@pytest.mark.parametrize(
    "page",
    [
        *("4", "9", "99999999999999999999999", "9" * 5000),  # past the last page
        *("0", "-1", "", "abc", "1.5", "1e3", " 2", "+2", "2_0", "\u0662", "\x00"),
    ],
)
def test_a_page_that_does_not_exist_is_404_like_flask_sqlalchemy(
    app: Flask, client: FlaskClient, directory: Directory, page: str
) -> None:
    app.config["XSMS_MESSAGES_PER_PAGE"] = 2
    for i in range(5):
        add_message(directory, CARE, body=f"m{i}")
    response = client.get(f"{settings_url(CARE)}/messages", query_string={"page": page})
    assert response.status_code == 404
    past_the_last = page.isascii() and page.isdigit() and page.strip("0")
    expected = NO_SUCH_PAGE.format(last=3) if past_the_last else NOT_A_PAGE
    assert expected in response.text


def test_page_one_of_an_empty_log_is_there(client: FlaskClient) -> None:
    url = f"{settings_url(CARE)}/messages"
    for query in ({"page": "1"}, {"page": "1", "number": "+15005550006"}, {}):
        response = client.get(url, query_string=query)
        assert response.status_code == 200
        assert "No messages" in response.text
    response = client.get(url, query_string={"page": "2"})
    assert response.status_code == 404
    assert NO_SUCH_PAGE.format(last=1) in response.text


def test_messages_page_of_a_domain_without_integration(client: FlaskClient) -> None:
    html = client.get(f"/xsms/domains/{HELPDESK}/twilio-sms/messages").text
    assert "No messages yet." in html
    with client.application.app_context():
        assert get_state().session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
