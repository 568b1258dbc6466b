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



def sign_in(client: FlaskClient, email: str = "demo@example.com", password: str = "demo") -> t.Any:
    return client.post("/login", data={"email": email, "password": password})


def cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    table = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)]
        for r in rows
    ]
    return [row for row in table if row]


def test_signed_out_home_redirects_to_the_login_form(example: Flask) -> None:
    client = example.test_client()
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")
    page = client.get(response.location).text
    for label in ("Email", "Password"):
        assert f">{label}</label>" in page
    assert 'value="Sign in"' in page


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
        assert load_domain("999") is None
        assert load_domain("not-a-number") is None


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
