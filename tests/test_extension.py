from __future__ import annotations

import logging
import typing as t

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_xsms import Application
from flask_xsms import Credentials
from flask_xsms import Domain
from flask_xsms import XSMS
from flask_xsms._config import config_value
from flask_xsms._config import DEFAULTS
from flask_xsms._extension import get_state


@pytest.fixture
def sqlite_url(tmp_path: t.Any) -> str:
    return f"sqlite:///{tmp_path / 'ext.sqlite'}"


def make_app(sqlite_url: str, **config: t.Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=sqlite_url, SECRET_KEY="x", **config)
    return app


def test_direct_init_registers_state(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    db = SQLAlchemy(app)
    xsms = XSMS(app, db=db)
    state = get_state(app)
    assert app.extensions["xsms"] is state
    assert state.xsms is xsms and state.db is db


def test_app_factory_finds_the_hosts_db(sqlite_url: str) -> None:
    db = SQLAlchemy()
    xsms = XSMS()

    def create_app() -> Flask:
        app = make_app(sqlite_url)
        db.init_app(app)
        xsms.init_app(app)
        return app

    first, second = create_app(), create_app()
    assert get_state(first).db is db and get_state(second).db is db
    assert get_state(first) is not get_state(second)


def test_every_default_is_set_and_host_values_are_kept(sqlite_url: str) -> None:
    app = make_app(sqlite_url, XSMS_URL_PREFIX="/sms", XSMS_TWILIO_AUTH_TOKEN="secret")
    XSMS(app, db=SQLAlchemy(app))
    for key, default in DEFAULTS.items():
        if key not in ("URL_PREFIX", "TWILIO_AUTH_TOKEN"):
            assert app.config["XSMS_" + key] == default
    assert app.config["XSMS_URL_PREFIX"] == "/sms"
    assert app.config["XSMS_TWILIO_AUTH_TOKEN"] == "secret"
    with app.app_context():
        assert config_value("URL_PREFIX") == "/sms"
        with pytest.raises(KeyError, match="XSMS_URL_PREFX is not a flask-xsms"):
            config_value("URL_PREFX")


def test_url_prefix_moves_the_blueprint(sqlite_url: str) -> None:
    app = make_app(sqlite_url, XSMS_URL_PREFIX="/chat/sms")
    XSMS(app, db=SQLAlchemy(app))
    rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("xsms")}
    assert "/chat/sms/domains/<domain_id>/integrations" in rules
    assert all(rule.startswith("/chat/sms/") for rule in rules)


def test_second_init_on_one_app_is_refused(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    db = SQLAlchemy(app)
    XSMS(app, db=db)
    with pytest.raises(RuntimeError, match="already registered"):
        XSMS(app, db=db)


def test_without_flask_sqlalchemy_the_error_names_the_fix(sqlite_url: str) -> None:
    with pytest.raises(RuntimeError, match=r"db.init_app\(app\) before xsms.init_app\(app\)"):
        XSMS(make_app(sqlite_url))


def test_use_before_init_names_the_fix(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    with app.app_context(), pytest.raises(RuntimeError, match="xsms.init_app"):
        get_state()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"XSMS_URL_PREFIX": "xsms"}, "XSMS_URL_PREFIX must be a path"),
        ({"XSMS_PUBLIC_BASE_URL": "sms.example.com"}, "XSMS_PUBLIC_BASE_URL must be an absolute"),
        ({"XSMS_TWILIO_ACCOUNT_SID": "SK123"}, "must be an account SID"),
    ],
)
def test_bad_config_is_reported_at_start_up(
    sqlite_url: str, config: dict[str, str], message: str
) -> None:
    app = make_app(sqlite_url, **config)
    with pytest.raises(ValueError, match=message):
        XSMS(app, db=SQLAlchemy(app))


def test_two_apps_with_two_extensions_keep_their_own_callbacks(tmp_path: t.Any) -> None:
    apps = []
    for name in ("north", "south"):
        app = make_app(f"sqlite:///{tmp_path / name}.sqlite")
        xsms = XSMS(app, db=SQLAlchemy(app))
        xsms.domain_loader(lambda domain_id, name=name: Domain(domain_id, name, "a", "prod"))
        apps.append(app)
    for app, name in zip(apps, ("north", "south")):
        with app.app_context():
            assert get_state().load_domain("7") == Domain("7", name, "a", "prod")


def test_create_all_and_drop_all_use_the_hosts_engine(sqlite_url: str) -> None:
    import sqlalchemy as sa

    app = make_app(sqlite_url)
    xsms = XSMS(app, db=SQLAlchemy(app))
    with app.app_context():
        xsms.create_all()
        xsms.create_all()  # keeps what exists
        tables = set(sa.inspect(get_state().db.engine).get_table_names())
        assert {"xsms_integration", "xsms_number_binding", "xsms_message"} <= tables
        xsms.drop_all()
        assert not any(
            name.startswith("xsms_") for name in sa.inspect(get_state().db.engine).get_table_names()
        )


def test_missing_loaders_raise_with_the_decorator_to_use(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    XSMS(app, db=SQLAlchemy(app))
    with app.app_context():
        with pytest.raises(RuntimeError, match="@xsms.domain_loader"):
            get_state().load_domain("1")
        with pytest.raises(RuntimeError, match="@xsms.applications_loader"):
            get_state().applications(Domain("1", "D", "a", "prod"))


def test_no_permission_handler_means_no_access_and_a_hint(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(sqlite_url)
    xsms = XSMS(app, db=SQLAlchemy(app))
    xsms.domain_loader(lambda domain_id: Domain(domain_id, "Care", "a", "prod"))
    xsms.applications_loader(lambda domain: [])
    with app.app_context():
        xsms.create_all()
    with caplog.at_level(logging.WARNING, logger="flask_xsms"):
        for _ in range(2):
            assert app.test_client().get("/xsms/domains/1/integrations").status_code == 403
    hints = [r for r in caplog.records if "@xsms.permission_handler" in r.getMessage()]
    assert len(hints) == 1  # said once, not on every request


def test_permission_handler_decides(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    xsms = XSMS(app, db=SQLAlchemy(app))
    xsms.domain_loader(lambda domain_id: Domain(domain_id, "Care", "a", "prod") if domain_id == "1" else None)
    xsms.applications_loader(lambda domain: [Application("5", "Bot", "Customer Assistant")])
    allowed = {"1"}
    xsms.permission_handler(lambda domain: domain.id in allowed)
    with app.app_context():
        xsms.create_all()
    client = app.test_client()
    assert client.get("/xsms/domains/1/integrations").status_code == 200
    assert client.get("/xsms/domains/2/integrations").status_code == 404
    allowed.clear()
    assert client.get("/xsms/domains/1/integrations").status_code == 403


def test_credentials_default_to_config(sqlite_url: str) -> None:
    sid = "AC" + "a" * 32
    app = make_app(sqlite_url, XSMS_TWILIO_ACCOUNT_SID=sid, XSMS_TWILIO_AUTH_TOKEN="tok")
    XSMS(app, db=SQLAlchemy(app))
    with app.app_context():
        assert get_state().credentials("any-account") == Credentials(sid, "tok")
        app.config["XSMS_TWILIO_AUTH_TOKEN"] = None
        assert get_state().credentials("any-account") is None


def test_credentials_loader_gives_per_account_credentials(sqlite_url: str) -> None:
    app = make_app(sqlite_url, XSMS_TWILIO_ACCOUNT_SID="AC" + "a" * 32, XSMS_TWILIO_AUTH_TOKEN="t")
    xsms = XSMS(app, db=SQLAlchemy(app))
    per_account = {"globex": Credentials("AC" + "b" * 32, "globex-token")}

    @xsms.credentials_loader
    def load(account_id: str) -> Credentials | None:
        return per_account.get(account_id)

    with app.app_context():
        assert get_state().credentials("globex") == per_account["globex"]
        assert get_state().credentials("acme") is None


def test_credentials_never_show_the_token() -> None:
    assert "secret-token" not in repr(Credentials("AC" + "1" * 32, "secret-token"))


def test_value_objects_want_string_ids() -> None:
    with pytest.raises(TypeError, match="str\\(\\)"):
        Domain(1, "Care", "acme", "production")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str\\(\\)"):
        Application(5, "Bot", "Customer Assistant")  # type: ignore[arg-type]
    assert Domain("1", "Sales", "acme", "production").label == "Sales (production)"
    assert Application("5", "Bot", "Agent Assistant").bindable
    assert not Application("6", "Widget", "Web Widget").bindable


def test_cli_group_name_is_configurable(sqlite_url: str) -> None:
    app = make_app(sqlite_url, XSMS_CLI_GROUP="sms")
    XSMS(app, db=SQLAlchemy(app))
    result = app.test_cli_runner().invoke(args=["sms", "create-tables"])
    assert result.exit_code == 0, result.output
    assert "tables are ready" in result.output


@pytest.mark.parametrize("order", ["before", "after"])
def test_webhooks_are_exempt_from_the_hosts_csrf_protection(sqlite_url: str, order: str) -> None:
    from flask_wtf.csrf import CSRFProtect

    app = make_app(sqlite_url)
    db = SQLAlchemy(app)
    if order == "before":
        CSRFProtect(app)
    XSMS(app, db=db)
    if order == "after":
        CSRFProtect(app)
    client = app.test_client()
    # no CSRF token: the webhook answers for itself (an unknown id: 404), not with a 400
    with app.app_context():
        get_state().xsms.create_all()
    assert client.post(f"/xsms/hooks/{'0' * 32}/sms").status_code == 404
