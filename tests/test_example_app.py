"""The example host: sign-in, seeded data, domain list, permission callback."""
from __future__ import annotations

import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from example_app import create_app
from example_app import init_database
from example_app.models import Account
from example_app.models import db
from example_app.models import Domain
from example_app.models import User

from .pages import parse



def sign_in(client: FlaskClient, email: str = "demo@example.com", password: str = "demo") -> t.Any:
    return client.post("/login", data={"email": email, "password": password})


def cells(html: str) -> list[list[str]]:
    table = [[td.text for td in tr.find_all("td")] for tr in parse(html).find_all("tr")]
    return [row for row in table if row]


def test_signed_out_home_redirects_to_the_login_form(example: Flask) -> None:
    client = example.test_client()
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")
    page = client.get(response.location).text
    for label in ("Email", "Password"):
        assert f">{label}</label>" in page
    assert 'value="Sign in"' in page
    # A first visit is no mistake: the form, and no warning.
    assert parse(page).find_all(class_="flash") == []
    assert "Sign in to continue" not in page


def test_wrong_password_is_refused(example: Flask) -> None:
    client = example.test_client()
    response = sign_in(client, password="nope")
    assert response.status_code == 200 and "Wrong email or password." in response.text
    assert client.get("/").status_code == 302


def test_demo_user_sees_every_seeded_domain(example: Flask) -> None:
    client = example.test_client()
    assert sign_in(client).location == "/"
    page = client.get("/").text
    assert cells(page) == [
        ["Customer Care", "production", "Acme", "Integrations"],
        ["Sales", "production", "Acme", "Integrations"],
        ["Customer Care", "staging", "Acme", "Integrations"],
        ["Helpdesk", "production", "Globex", "Integrations"],
    ]


def test_integrations_links_open_each_domains_panel(example: Flask) -> None:
    client = example.test_client()
    sign_in(client)
    links = re.findall(r'href="(/xsms/domains/\d+/integrations)"', client.get("/").text)
    assert len(links) == 4
    for link in links:
        page = client.get(link)
        assert page.status_code == 200
        assert "Twilio SMS" in page.text


def test_seed_data_matches_the_design(example: Flask) -> None:
    with example.app_context():
        domains = db.session.scalars(db.select(Domain)).all()
        shape = sorted(
            (
                d.environment.account.name,
                d.environment.name,
                d.name,
                tuple(sorted(a.channel_type for a in d.applications)),
            )
            for d in domains
        )
    three = ("Agent Assistant", "Customer Assistant", "Web Widget")
    assert shape == [
        ("Acme", "production", "Customer Care", three),
        ("Acme", "production", "Sales", three),
        ("Acme", "staging", "Customer Care", three),
        ("Globex", "production", "Helpdesk", ("Customer Assistant",)),
    ]


def test_seeding_again_adds_nothing(example: Flask) -> None:
    with example.app_context():
        before = db.session.query(Domain).count()
        init_database()
        assert db.session.query(Domain).count() == before == 4


def test_init_db_command(example: Flask) -> None:
    result = example.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Demo login: demo@example.com / demo" in result.output


def test_loaders_turn_host_rows_into_value_objects(example: Flask) -> None:
    from example_app.host import load_applications
    from example_app.host import load_domain

    with example.app_context():
        sales = db.session.scalar(db.select(Domain).filter_by(name="Sales"))
        domain = load_domain(str(sales.id))
        assert domain is not None
        assert (domain.name, domain.environment) == ("Sales", "production")
        assert [a.channel_type for a in load_applications(domain)] == [
            "Customer Assistant",
            "Agent Assistant",
            "Web Widget",
        ]
        for unknown in ("999", "not-a-number", "99999999999999999999999", str(2**31), "-1",
                        "0", "", " 1", "01", "+1", "1_0", "\u0661", "9" * 5000):
            assert load_domain(unknown) is None, unknown


def test_users_manage_only_their_accounts_domains(example: Flask) -> None:
    with example.app_context():
        acme = db.session.scalar(db.select(Account).filter_by(name="Acme"))
        user = User(email="acme-only@example.com", accounts=[acme])
        user.set_password("pw")
        db.session.add(user)
        db.session.commit()
        helpdesk_id = db.session.scalar(db.select(Domain.id).filter_by(name="Helpdesk"))
        sales_id = db.session.scalar(db.select(Domain.id).filter_by(name="Sales"))
    client = example.test_client()
    sign_in(client, "acme-only@example.com", "pw")
    assert client.get(f"/xsms/domains/{sales_id}/integrations").status_code == 200
    refused = client.get(f"/xsms/domains/{helpdesk_id}/integrations")
    assert refused.status_code == 403 and "Not allowed" in refused.text
    assert [row[2] for row in cells(client.get("/").text)] == ["Acme", "Acme", "Acme"]


@pytest.mark.parametrize(
    "domain_id", ["999", "99999999999999999999999", str(2**31), "-1", "0", "abc", "%C2%B2"]
)
@pytest.mark.parametrize(
    "page",
    ["integrations", "twilio-sms", "twilio-sms/messages", "twilio-sms/messages?page=2"],
)
def test_unknown_domains_are_404_whatever_their_id(
    example: Flask, domain_id: str, page: str
) -> None:
    client = example.test_client()
    sign_in(client)
    response = client.get(f"/xsms/domains/{domain_id}/{page}")
    assert response.status_code == 404
    assert "There is no such IA Domain." in response.text
    api = client.get(f"/xsms/api/domains/{domain_id}/numbers")
    assert api.status_code == 404
    assert api.json == {
        "errors": [{"row": None, "field": None, "message": "There is no such IA Domain."}]
    }


def test_the_json_api_needs_the_csrf_token_of_a_signed_in_browser(example: Flask) -> None:
    with example.app_context():
        sales_id = db.session.scalar(db.select(Domain.id).filter_by(name="Sales"))
    client = example.test_client()
    sign_in(client)
    example.config["WTF_CSRF_ENABLED"] = True
    api = f"/xsms/api/domains/{sales_id}/numbers"
    application_id = client.get(api).json["applications"][0]["id"]
    body = {"numbers": [{"phone_number": "+14155550100", "application_id": application_id}]}
    refused = client.put(api, json=body)
    assert refused.status_code == 400
    assert refused.json["errors"][0]["message"].startswith("The CSRF token is missing.")
    assert client.get(api).json["numbers"] == []
    token = client.get(api).headers["X-CSRFToken"]
    response = client.put(api, json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert [n["phone_number"] for n in response.json["numbers"]] == ["+14155550100"]


def test_a_session_with_an_unknown_user_id_is_signed_out(example: Flask) -> None:
    client = example.test_client()
    for user_id in ("99999999999999999999999", "-1", "x"):
        with client.session_transaction() as session:
            session["_user_id"] = user_id
        response = client.get("/")
        assert response.status_code == 302 and response.location.startswith("/login")


def test_signed_out_visitors_of_extension_pages_are_sent_to_sign_in(example: Flask) -> None:
    response = example.test_client().get("/xsms/domains/1/integrations")
    assert response.status_code == 302
    assert response.location == "/login?next=/xsms/domains/1/integrations"


def test_login_never_redirects_off_site(example: Flask) -> None:
    client = example.test_client()
    response = client.post(
        "/login?next=//evil.example/x", data={"email": "demo@example.com", "password": "demo"}
    )
    assert response.location == "/"


def test_config_comes_from_flask_prefixed_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("FLASK_XSMS_PUBLIC_BASE_URL", "https://sms.example.com")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", database_url)
    app = create_app()
    assert app.config["XSMS_PUBLIC_BASE_URL"] == "https://sms.example.com"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url


def test_the_signed_in_user_is_the_operator(example: Flask) -> None:
    from flask_xsms._extension import get_state

    client = example.test_client()
    sign_in(client)
    with client:
        client.get("/")
        operator = get_state(example).operator()
    assert (operator.id, operator.name) == ("1", "demo@example.com")
    with example.test_request_context():
        assert get_state(example).operator().name == "Operator"  # signed out
