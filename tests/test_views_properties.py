"""Random URLs, query strings and bodies at every page: never a 500, and what each promises.

Every route of the extension's blueprints (found in the URL map, so a new route is
covered the day it is added) gets random path values (domain ids that are huge, negative,
not digits, not ASCII), random query strings and random bodies (forms, JSON, text), with
and without a session cookie, CSRF on and off. The messages page is checked against a
model of its paging and its number filter, and the example host's pages and domain
loader get the same treatment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import typing as t
import urllib.parse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from flask_xsms.errors import NumberError
from flask_xsms._extension import get_state
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms.integrations import create_integration
from flask_xsms._message_log import number_filter
from flask_xsms.models import Message

from .hostapp import create_host_app
from .hostapp import Directory
from .pages import parse
from .webhooks_support import AGENT_NUMBER
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import UNKNOWN_NUMBER

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KNOWN_DOMAINS = ("1", "2", "3", "4")
ODD_IDS = (
    "0",
    "00",
    "01",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1.0",
    "1e3",
    "1_0",
    "0x1",
    "\u0661",  # ARABIC-INDIC DIGIT ONE: str.isdigit() says yes
    "\u00b2",  # SUPERSCRIPT TWO: isdigit() yes, int() no
    "\x00",
    "..",
    "%",
    "null",
    "999",
    str(2**31 - 1),
    str(2**31),
    str(2**63),
    "99999999999999999999999",
    "9" * 5000,
)
ODD_VALUES = (
    "",
    " ",
    "\x00",
    "\t\n",
    "1",
    "2",
    "3",
    "garbage",
    "%FF",
    CARE_NUMBER,
    AGENT_NUMBER,
    UNKNOWN_NUMBER,
    "+1 (415) 555-0100",
    "4155550100",
    "whatsapp:+14155550100",
    "MG" + "a" * 32,
    "MG123",
    "delivered",
)
#: What the pages read from query strings and forms, each with a value they take.
PLAUSIBLE = {
    "page": "1",
    "number": CARE_NUMBER,
    "domain": "1",
    "domain_id": "1",
    "customer": "+14155550123",
    "after": "0",
    "message_id": "1",
    "status": "delivered",
    "body": "hello",
    "phone_number": CARE_NUMBER,
    "numbers-0-phone_number": CARE_NUMBER,
    "numbers-0-application": "11",
    "numbers-7-phone_number": AGENT_NUMBER,
    "numbers-7-application": "12",
}
PARAMS = tuple(PLAUSIBLE)

#: Text without lone surrogates (no URL or form can carry them).
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
#: Numbers and near-numbers, for ids, pages and offsets.
ODD_NUMBERS = ("", "-1", "0", "1e3", "abc", str(2**31), str(2**63), "9" * 23, "9" * 5000)
values = st.one_of(st.sampled_from(ODD_VALUES), st.sampled_from(ODD_NUMBERS), texts)
#: What an HTTP header can carry.
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=120)
path_values = st.one_of(
    st.sampled_from(KNOWN_DOMAINS),
    st.sampled_from(ODD_IDS),
    # A "/" in a path value is a question for the router, not for the page.
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/"), min_size=1),
)
keys = st.one_of(st.sampled_from(PARAMS), texts)


@st.composite
def pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """The parameters the pages read, each with a value they take, then dropped, changed,
    repeated and added to."""
    params = dict(PLAUSIBLE)
    for name in draw(st.sets(st.sampled_from(PARAMS), max_size=4)):
        if draw(st.booleans()):
            del params[name]
        else:
            params[name] = draw(values)
    found = list(params.items()) + draw(st.lists(st.tuples(keys, values), max_size=3))
    return draw(st.permutations(found))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), values),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=8,
)
rows = st.lists(
    st.one_of(
        st.fixed_dictionaries({"phone_number": json_values, "application_id": json_values}),
        json_values,
    ),
    max_size=3,
)
json_bodies = st.one_of(st.builds(lambda r: {"numbers": r}, rows), json_values)


@dataclasses.dataclass(frozen=True)
class Call:
    """One request: its path values, query, body, cookie and CSRF setting."""

    path: dict[str, str]
    query: tuple[tuple[str, str], ...]
    body: str
    form: tuple[tuple[str, str], ...]
    json_body: t.Any
    raw: str
    csrf: bool
    signed_in: bool
    token_header: str | None


def routes() -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route of the extension's blueprints."""
    app = create_host_app("sqlite://")
    return sorted(
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0].startswith("xsms")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    )


ROUTES = [
    pytest.param(endpoint, method, rule, id=f"{method} {rule}")
    for endpoint, method, rule in routes()
]


@st.composite
def calls(draw: st.DrawFn, arguments: t.Iterable[str]) -> Call:
    return Call(
        path={name: draw(path_values) for name in sorted(arguments)},
        query=tuple(draw(pairs())),
        body=draw(st.sampled_from(["none", "form", "json", "text"])),
        form=tuple(draw(pairs())),
        json_body=draw(json_bodies),
        raw=draw(texts),
        csrf=draw(st.booleans()),
        signed_in=draw(st.booleans()),
        token_header=draw(st.one_of(st.none(), header_values)),
    )


def send(app: Flask, rule: str, method: str, call: Call) -> TestResponse:
    """Send ``call`` to the route with a fresh client (a fresh cookie jar)."""
    app.config["WTF_CSRF_ENABLED"] = call.csrf
    client = app.test_client()
    if call.signed_in:
        with client.session_transaction() as session:
            session["user"] = "demo"
    # The values go in as they are, quoted: the router, not the test, says what matches.
    url = re.sub(
        r"<(?:[^:<>]+:)?([^<>]+)>",
        lambda m: urllib.parse.quote(call.path[m[1]], safe=""),
        rule,
    )
    headers = {"X-CSRFToken": call.token_header} if call.token_header is not None else {}
    options: dict[str, t.Any] = {}
    if call.body == "form":
        options["data"] = MultiDict(list(call.form))
    elif call.body == "json":
        options["json"] = call.json_body
    elif call.body == "text":
        options.update(data=call.raw.encode(), content_type="text/plain")
    return client.open(
        url, method=method, query_string=MultiDict(list(call.query)), headers=headers, **options
    )


def never_500(response: TestResponse) -> None:
    assert response.status_code < 500, (response.status_code, response.data[:2000])


@pytest.mark.parametrize(("endpoint", "method", "rule"), ROUTES)
def test_no_page_of_the_extension_answers_500(
    app: Flask, bound: Bound, endpoint: str, method: str, rule: str
) -> None:
    app.config["XSMS_SIMULATOR"] = True
    (rule_object,) = app.url_map.iter_rules(endpoint)

    @PROPERTY
    @given(call=calls(rule_object.arguments))
    def check(call: Call) -> None:
        response = send(app, rule, method, call)
        never_500(response)
        domain_id = call.path.get("domain_id")
        if domain_id is not None and domain_id not in KNOWN_DOMAINS:
            # Unknown domain: 404, unless a write was refused for its CSRF token first.
            refused_write = method != "GET" and call.csrf and response.status_code == 400
            assert response.status_code == 404 or refused_write, response.status_code

    check()
    assert wait_for_chatbots(timeout=10)


# -- The messages page against a model ----------------------------------------------------

PER_PAGE = 2
CUSTOMERS = ("+15005550006", "+15005550009", "whatsapp:+15005550006")
#: Each customer's messages in Customer Care: 5, 2 and 1 (pages of 2: 3, 1 and 1).
LOG = (0, 0, 0, 0, 0, 1, 1, 2)

page_values = st.one_of(
    st.none(),
    st.integers(-3, 6).map(str),
    st.sampled_from(["", " 1", "01", "003", "+1", "1.0", "\u0662", "\x00"] + list(ODD_IDS)),
    texts,
)
number_values = st.one_of(
    st.none(),
    st.sampled_from(
        [
            *CUSTOMERS,
            "+1 (500) 555-0006",
            " +15005550009 ",
            "WhatsApp:+1 500 555 0006",
            CARE_NUMBER,
            UNKNOWN_NUMBER,
            "MG" + "0" * 32,
        ]
    ),
    values,
)


def well_formed(page: str | None) -> bool:
    """Whether ``page`` is absent or a whole number from 1 in ASCII digits."""
    return page is None or (re.fullmatch(r"[0-9]+", page) is not None and bool(page.strip("0")))


def expected_page(page: str | None, total: int) -> int | None:
    """The page the messages page shows for a well-formed ``page``, or None for a 404."""
    if page is None:
        return 1
    digits = page.lstrip("0")
    if len(digits) > 18:
        return None
    wanted = int(digits)
    return wanted if wanted == 1 or wanted <= math.ceil(total / PER_PAGE) else None


def test_the_messages_page_pages_and_filters_as_promised(
    app: Flask, client: FlaskClient, directory: Directory
) -> None:
    app.config["XSMS_MESSAGES_PER_PAGE"] = PER_PAGE
    integration = create_integration(directory.domains["1"])
    assert integration is not None
    session = get_state().session
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
    for i, customer in enumerate(LOG):
        session.add(
            Message(
                integration_id=integration.id,
                direction="inbound",
                from_number=CUSTOMERS[customer],
                to_number=CARE_NUMBER,
                body=f"m{i}",
                status="received",
                created_at=start + dt.timedelta(minutes=i),
            )
        )
    session.commit()

    @PROPERTY
    @given(page=page_values, number=number_values)
    def check(page: str | None, number: str | None) -> None:
        query = {k: v for k, v in (("page", page), ("number", number)) if v is not None}
        response = client.get("/xsms/domains/1/twilio-sms/messages", query_string=query)
        never_500(response)
        try:
            wanted = number_filter(number)
        except NumberError:
            wanted = None
        if not well_formed(page):
            assert response.status_code == 404
            assert "There is no such page of messages" in response.text
            return
        if wanted is None:
            # Not a phone number: the page says so and shows no message, on any page.
            assert response.status_code == 200
            html = parse(response.text)
            errors = html.find_all(id="xsms-number-filter-error")
            assert len(errors) == 1 and "No messages are shown" in errors[0].text
            assert "Messages, newest first" not in response.text
            return
        # Every message goes to CARE_NUMBER: filtering by it keeps them all.
        matching = [i for i, c in enumerate(LOG) if wanted in ("", CARE_NUMBER, CUSTOMERS[c])]
        shown = expected_page(page, len(matching))
        if shown is None:
            assert response.status_code == 404
            assert "There is no such page of messages" in response.text
            return
        assert response.status_code == 200
        html = parse(response.text)
        bodies = [tr.find_all("td")[6].text for tr in html.find_all("tr") if tr.find_all("td")]
        assert html.find_all(id="xsms-number-filter-error") == []
        newest_first = [f"m{i}" for i in reversed(matching)]
        assert bodies == newest_first[(shown - 1) * PER_PAGE : shown * PER_PAGE]

    check()


# -- The example host -----------------------------------------------------------------------

EXAMPLE_PAGES = (
    "/xsms/domains/{}/integrations",
    "/xsms/domains/{}/twilio-sms",
    "/xsms/domains/{}/twilio-sms/messages",
    "/xsms/api/domains/{}/numbers",
)


def test_the_example_hosts_pages_never_answer_500(example: Flask) -> None:
    from example_app.models import db
    from example_app.models import Domain
    from example_app.models import User

    with example.app_context():
        domain_ids = {str(i) for i in db.session.scalars(db.select(Domain.id))}
        demo_id = str(db.session.scalar(db.select(User.id).filter_by(email="demo@example.com")))

    @PROPERTY
    @given(
        domain_id=st.one_of(st.sampled_from(sorted(domain_ids)), path_values),
        page=st.sampled_from(EXAMPLE_PAGES),
        query=pairs(),
        user=st.one_of(st.none(), st.just(demo_id), st.sampled_from(ODD_IDS), texts),
    )
    def check(domain_id: str, page: str, query: list[tuple[str, str]], user: str | None) -> None:
        client = example.test_client()
        if user is not None:
            with client.session_transaction() as session:
                session["_user_id"] = user
        url = page.format(urllib.parse.quote(domain_id, safe=""))
        response = client.get(url, query_string=MultiDict(query))
        never_500(response)
        if domain_id not in domain_ids:
            assert response.status_code == 404
        elif user != demo_id:
            # Signed out: sent to sign in (the JSON API answers 403).
            assert response.status_code == (403 if "/api/" in page else 302)
        elif "messages" not in page:
            assert response.status_code == 200
        else:
            assert response.status_code in (200, 404)

    check()


def test_the_example_hosts_sign_in_never_answers_500(example: Flask) -> None:
    @PROPERTY
    @given(
        email=st.one_of(st.just("demo@example.com"), values),
        password=st.one_of(st.just("demo"), values),
        target=st.one_of(
            st.none(),
            st.sampled_from(
                [
                    "/",
                    "/xsms/domains/1/integrations",
                    "//evil.example",
                    "/\\evil.example",
                    "/\t/evil.example",
                    "/\r\nX: y",
                    "/x\x00",
                    "/\u4e2d",
                    "https://evil.example/",
                ]
            ),
            texts,
        ),
        method=st.sampled_from(["GET", "POST"]),
    )
    def check(email: str, password: str, target: str | None, method: str) -> None:
        client = example.test_client()
        query = {"next": target} if target is not None else {}
        response = client.open(
            "/login",
            method=method,
            query_string=query,
            data={"email": email, "password": password} if method == "POST" else None,
        )
        never_500(response)
        if response.status_code == 302:
            location = response.location
            # Never another site, nor anything a browser could read as one.
            assert location.startswith("/") and not location.startswith(("//", "/\\"))
            assert location.isprintable() and location.isascii()
        never_500(client.get("/"))
        never_500(client.post("/logout"))

    check()

