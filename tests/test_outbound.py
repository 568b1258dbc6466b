from __future__ import annotations

import socket
import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_xsms import Credentials
from flask_xsms import Pair
from flask_xsms import signals
from flask_xsms.errors import AuthenticationFailed
from flask_xsms.errors import CredentialsMissing
from flask_xsms.errors import InvalidMessage
from flask_xsms.errors import InvalidNumber
from flask_xsms.errors import NumberNotBound
from flask_xsms.errors import OptedOut
from flask_xsms.errors import RateLimited
from flask_xsms.errors import SendError
from flask_xsms.errors import TwilioUnavailable
from flask_xsms._extension import get_state
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import webhook_urls
from flask_xsms.models import Message
from flask_xsms.numbers import replace_bindings
from flask_xsms._optouts import is_opted_out
from flask_xsms._optouts import set_opted_out
from flask_xsms.outbound import deliver
from flask_xsms.outbound import send
from flask_xsms.outbound import send_message
from flask_xsms.outbound import send_pending
from flask_xsms.outbound import status_callback_url

from .hostapp import create_host_app
from .hostapp import Directory
from .twilio_server import message_json
from .twilio_server import TwilioStandIn

CARE, HELPDESK = "1", "4"
CARE_NUMBER = "+14155550100"
HELPDESK_NUMBER = "+14155550199"
CUSTOMER = "+14155550123"
ACME_SID = "AC" + "1" * 32
BASE = "https://sms.example.com"


@pytest.fixture
def outbound_app(
    app: Flask, directory: Directory, twilio_api: TwilioStandIn
) -> Flask:
    """The test app, bound numbers in two accounts, talking to the stand-in."""
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    app.config["XSMS_PUBLIC_BASE_URL"] = BASE
    with app.app_context():
        replace_bindings(directory.domains[CARE], [Pair(CARE_NUMBER, "11")])
        replace_bindings(directory.domains[HELPDESK], [Pair(HELPDESK_NUMBER, "41")])
    return app


@pytest.fixture
def recorded() -> t.Iterator[dict[str, list[dict[str, t.Any]]]]:
    """Every outbound signal sent during the test, with its sender and kwargs."""
    seen: dict[str, list[dict[str, t.Any]]] = {"sent": [], "failed": []}

    def on_sent(sender: Flask, **kwargs: t.Any) -> None:
        seen["sent"].append({"sender": sender, **kwargs})

    def on_failed(sender: Flask, **kwargs: t.Any) -> None:
        seen["failed"].append({"sender": sender, **kwargs})

    with signals.message_sent.connected_to(on_sent), signals.message_failed.connected_to(on_failed):
        yield seen


def stored(message_id: int) -> Message:
    session = get_state().session
    session.expire_all()
    message = session.get(Message, message_id)
    assert message is not None
    return message


def outside_request(app: Flask, fn: t.Callable[[], t.Any]) -> t.Any:
    """Run ``fn`` in an app context of another thread, as a worker or the CLI would:
    no request context there (pytest-flask pushes one for the test's own thread)."""
    outcome: dict[str, t.Any] = {}

    def run() -> None:
        with app.app_context():
            try:
                outcome["value"] = fn()
            except BaseException as e:  # re-raised in the test's thread
                outcome["error"] = e
            finally:
                get_state().session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def all_messages() -> list[Message]:
    return list(get_state().session.scalars(sa.select(Message).order_by(Message.id)))


def test_send_stores_then_sends_with_the_status_callback(
    outbound_app: Flask, twilio_api: TwilioStandIn, recorded: dict[str, t.Any]
) -> None:
    with outbound_app.app_context():
        [message] = send(
            CARE,
            from_number="+1 (415) 555-0100",
            to=CUSTOMER,
            body="Your order shipped 📦",
            media_urls=["https://cdn.example.com/a.png", "https://cdn.example.com/b.jpg"],
        )
        domain = outbound_app.extensions["test_directory"].domains[CARE]
        callback = webhook_urls(create_integration(domain)).status_callback_url
        saved = stored(message.id)
        assert saved.direction == "outbound"
        assert saved.status == "queued"
        assert saved.sid is not None and saved.sid.startswith("MM") and len(saved.sid) == 34
        assert saved.account_sid == ACME_SID
        assert saved.num_segments == 1
        assert saved.application_id == "11"
        assert saved.media == [
            {"url": "https://cdn.example.com/a.png"},
            {"url": "https://cdn.example.com/b.jpg"},
        ]
        assert saved.error_code is None

    assert callback.startswith(BASE + "/xsms/hooks/") and callback.endswith("/status")
    [request] = twilio_api.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACME_SID}/Messages.json"
    assert (request.user, request.password) == (ACME_SID, "test-auth-token")
    assert request.form["To"] == CUSTOMER
    assert request.form["From"] == CARE_NUMBER
    assert request.form["Body"] == "Your order shipped 📦"
    assert request.form.getlist("MediaUrl") == [
        "https://cdn.example.com/a.png",
        "https://cdn.example.com/b.jpg",
    ]
    assert request.form["StatusCallback"] == callback

    [event] = recorded["sent"]
    assert event["sender"] is outbound_app
    assert event["message"].id == message.id
    assert recorded["failed"] == []


def test_message_is_stored_before_twilio_is_called(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    seen_in_db: list[str] = []

    def look(request: t.Any) -> None:
        # Runs in the stand-in's thread while the send waits for the answer.
        with outbound_app.app_context():
            seen_in_db.extend(m.status for m in all_messages())
            get_state().session.remove()

    twilio_api.handler = look
    with outbound_app.app_context():
        send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hello")
    assert seen_in_db == ["sending"]


def test_send_message_is_the_low_level_call_for_one_message(
    outbound_app: Flask, directory: Directory, twilio_api: TwilioStandIn
) -> None:
    with outbound_app.app_context():
        integration = create_integration(directory.domains[CARE])
        message = send_message(
            integration,
            from_number=CARE_NUMBER,
            to=CUSTOMER,
            body="late reply",
            application_id="11",
        )
        assert stored(message.id).status == "queued"
    assert twilio_api.messages[0].form["Body"] == "late reply"


def test_long_bodies_are_split_on_word_boundaries(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    words = " ".join(f"word{i}" for i in range(700))  # about 5500 characters
    with outbound_app.app_context():
        messages = send(
            CARE,
            from_number=CARE_NUMBER,
            to=CUSTOMER,
            body=words,
            media_urls=["https://cdn.example.com/a.png"],
        )
        assert len(messages) == 4
        assert all(stored(m.id).status == "queued" for m in messages)
    bodies = [r.form["Body"] for r in twilio_api.messages]
    assert all(len(b) <= 1600 for b in bodies)
    assert " ".join(bodies) == words
    assert [len(r.form.getlist("MediaUrl")) for r in twilio_api.messages] == [1, 0, 0, 0]


@pytest.mark.parametrize(
    ("code", "status", "rest"), [(21211, 400, "failed"), (20429, 429, "pending")]
)
def test_a_failing_part_stops_the_parts_after_it(
    outbound_app: Flask,
    twilio_api: TwilioStandIn,
    code: int,
    status: int,
    rest: str,
) -> None:
    words = " ".join(f"word{i}" for i in range(500))  # three parts
    twilio_api.answer(201)
    twilio_api.fail(code, status, "No")
    with outbound_app.app_context():
        with pytest.raises(SendError):
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body=words)
        assert [m.status for m in all_messages()] == ["queued", rest, rest]
        if rest == "pending":
            send_pending()
            get_state().session.expire_all()
            assert [m.status for m in all_messages()] == ["queued"] * 3
    bodies = [r.form["Body"] for r in twilio_api.requests if r is not twilio_api.requests[1]]
    if rest == "pending":
        assert " ".join(bodies) == words
    else:
        assert len(twilio_api.requests) == 2

@pytest.mark.parametrize(
    ("body", "media", "words"),
    [
        ("", [], "needs a body or media"),
        ("   ", [], "needs a body or media"),
        ("hi", [f"https://cdn.example.com/{i}.png" for i in range(11)], "at most 10 media"),
        ("hi", ["ftp://cdn.example.com/a.png"], r"absolute http\(s\) URLs"),
        ("hi", "https://cdn.example.com/a.png", "list of URLs"),
    ],
)
def test_bad_content_is_refused_before_anything_is_stored(
    outbound_app: Flask,
    twilio_api: TwilioStandIn,
    body: str,
    media: t.Any,
    words: str,
) -> None:
    with outbound_app.app_context():
        with pytest.raises(InvalidMessage, match=words):
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body=body, media_urls=media)
        assert all_messages() == []
    assert twilio_api.requests == []


def test_send_message_refuses_a_body_over_1600_characters(
    outbound_app: Flask, directory: Directory, twilio_api: TwilioStandIn
) -> None:
    with outbound_app.app_context():
        integration = create_integration(directory.domains[CARE])
        with pytest.raises(InvalidMessage, match="at most 1600 characters"):
            send_message(integration, from_number=CARE_NUMBER, to=CUSTOMER, body="x" * 1601)
        assert all_messages() == []


def test_sending_number_must_be_bound_in_the_domain(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    with outbound_app.app_context():
        with pytest.raises(NumberNotBound, match=r"\+14155550199 is not bound .* Customer Care"):
            send(CARE, from_number=HELPDESK_NUMBER, to=CUSTOMER, body="hi")
        with pytest.raises(NumberNotBound):
            send(CARE, from_number="+14155550142", to=CUSTOMER, body="hi")
        assert all_messages() == []
    assert twilio_api.requests == []


def test_each_account_sends_with_its_own_credentials(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    globex_sid = "AC" + "2" * 32
    accounts = {
        "acme": Credentials(ACME_SID, "acme-token"),
        "globex": Credentials(globex_sid, "globex-token"),
    }
    get_state(outbound_app).xsms.credentials_loader(accounts.get)
    with outbound_app.app_context():
        send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="from acme")
        [globex_message] = send(
            HELPDESK, from_number=HELPDESK_NUMBER, to=CUSTOMER, body="from globex"
        )
        assert stored(globex_message.id).account_sid == globex_sid
    acme, globex = twilio_api.messages
    assert (acme.user, acme.password, acme.account_sid) == (ACME_SID, "acme-token", ACME_SID)
    assert (globex.user, globex.password) == (globex_sid, "globex-token")
    assert globex.account_sid == globex_sid


def test_missing_credentials_fail_clearly_and_are_stored(
    outbound_app: Flask, twilio_api: TwilioStandIn, recorded: dict[str, t.Any]
) -> None:
    get_state(outbound_app).xsms.credentials_loader(lambda account_id: None)
    with outbound_app.app_context():
        with pytest.raises(
            CredentialsMissing, match="No Twilio credentials for account 'acme'"
        ) as info:
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")
        message = stored(info.value.sent_message.id)
        assert message.status == "failed"
        assert "No Twilio credentials" in (message.error_message or "")
    assert twilio_api.requests == []
    [event] = recorded["failed"]
    assert isinstance(event["error"], CredentialsMissing) and event["will_retry"] is False


@pytest.mark.parametrize(
    ("status", "code", "error_class", "stored_status", "will_retry"),
    [
        (400, 21211, InvalidNumber, "failed", False),
        (400, 21614, InvalidNumber, "failed", False),
        (401, 20003, AuthenticationFailed, "failed", False),
        (429, 20429, RateLimited, "pending", True),
        (500, 20500, TwilioUnavailable, "pending", True),
        (400, 21408, SendError, "failed", False),
    ],
)
def test_twilio_errors_become_typed_exceptions_and_are_stored(
    outbound_app: Flask,
    twilio_api: TwilioStandIn,
    recorded: dict[str, t.Any],
    status: int,
    code: int,
    error_class: type[SendError],
    stored_status: str,
    will_retry: bool,
) -> None:
    twilio_api.fail(code, status, f"Error {code}")
    with outbound_app.app_context():
        with pytest.raises(error_class) as info:
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")
        error = info.value
        assert type(error) is error_class
        assert (error.code, error.status, error.retryable) == (code, status, will_retry)
        message = stored(error.sent_message.id)
        assert message.status == stored_status
        assert message.error_code == str(code)
        assert f"Error {code}" in (message.error_message or "")
        assert "test-auth-token" not in (message.error_message or "")
        assert message.sid is None
    [event] = recorded["failed"]
    assert event["sender"] is outbound_app and event["will_retry"] is will_retry
    assert event["message"].id == error.sent_message.id and event["error"] is error


def test_service_exception_body_is_handled_too(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    # RFC-9457 bodies raise TwilioServiceException, a sibling of TwilioRestException.
    twilio_api.answer(
        400,
        {
            "type": "https://www.twilio.com/docs/errors/21211",
            "title": "Invalid 'To'",
            "status": 400,
            "code": 21211,
        },
    )
    with outbound_app.app_context():
        with pytest.raises(InvalidNumber, match="Invalid 'To'"):
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")


def test_error_21610_marks_the_customer_opted_out(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    twilio_api.fail(21610, 400, "Attempt to send to unsubscribed recipient")
    with outbound_app.app_context():
        with pytest.raises(OptedOut) as info:
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")
        assert stored(info.value.sent_message.id).status == "failed"
        assert stored(info.value.sent_message.id).error_code == "21610"
        assert is_opted_out("acme", CARE_NUMBER, CUSTOMER)
        # The next send is refused without asking Twilio.
        with pytest.raises(OptedOut):
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="again")
    assert len(twilio_api.requests) == 1


def test_opted_out_customer_is_refused_without_any_request(
    outbound_app: Flask, twilio_api: TwilioStandIn, recorded: dict[str, t.Any]
) -> None:
    with outbound_app.app_context():
        set_opted_out("acme", CARE_NUMBER, CUSTOMER, True, "STOP")
        with pytest.raises(OptedOut, match="opted out") as info:
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="a " * 1000)
        messages = all_messages()
        assert len(messages) == 2  # both parts are kept, as failed
        assert {(m.status, m.error_code) for m in messages} == {("failed", "21610")}
        assert info.value.sent_message.id == messages[0].id
        # After START, sending works again.
        set_opted_out("acme", CARE_NUMBER, CUSTOMER, False, "START")
        send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="welcome back")
    assert [r.form["Body"] for r in twilio_api.requests] == ["welcome back"]
    assert len(recorded["failed"]) == 2


def test_an_unreadable_answer_fails_the_message_instead_of_keeping_it_claimed(
    outbound_app: Flask, twilio_api: TwilioStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    twilio_api.answer(201, "<html>Bad gateway</html>")
    with outbound_app.app_context():
        with pytest.raises(SendError, match="Unexpected error") as info:
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")
        assert not info.value.retryable
        assert stored(info.value.sent_message.id).status == "failed"
    assert "Unexpected error while sending" in caplog.text

def test_network_down_keeps_the_message_pending(
    outbound_app: Flask, recorded: dict[str, t.Any]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outbound_app.config["XSMS_TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{port}"
    with outbound_app.app_context():
        with pytest.raises(TwilioUnavailable, match="could not be reached") as info:
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")
        assert info.value.retryable and info.value.code is None
        message = stored(info.value.sent_message.id)
        assert message.status == "pending"
        assert message.details["attempts"] == 1
    assert recorded["failed"][0]["will_retry"] is True


def test_no_answer_in_time_is_not_sent_again(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    outbound_app.config["XSMS_TWILIO_TIMEOUT"] = 0.3
    twilio_api.answer(201, None, delay=1.0)
    with outbound_app.app_context():
        with pytest.raises(TwilioUnavailable, match="may have been sent") as info:
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")
        assert not info.value.retryable
        assert stored(info.value.sent_message.id).status == "failed"
        assert send_pending() == []


def test_send_pending_retries_and_gives_up_after_max_attempts(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    outbound_app.config["XSMS_SEND_MAX_ATTEMPTS"] = 3
    for _ in range(3):
        twilio_api.fail(20429, 429, "Too Many Requests")
    with outbound_app.app_context():
        with pytest.raises(RateLimited) as info:
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")
        message_id = info.value.sent_message.id
        assert [m.id for m in send_pending()] == [message_id]
        assert stored(message_id).status == "pending"
        assert [m.id for m in send_pending()] == [message_id]
        assert stored(message_id).status == "failed"
        assert stored(message_id).details["attempts"] == 3
        assert send_pending() == []
    assert len(twilio_api.requests) == 3


def test_send_pending_drains_the_outbox_when_not_sending_at_once(
    outbound_app: Flask, twilio_api: TwilioStandIn, recorded: dict[str, t.Any]
) -> None:
    outbound_app.config["XSMS_SEND_IMMEDIATELY"] = False
    with outbound_app.app_context():
        first = send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="one")[0].id
        second = send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="two")[0].id
        assert stored(first).status == "pending"
    assert twilio_api.requests == []
    # A worker has no request context: the stored status-callback URL is used.
    assert outside_request(outbound_app, lambda: [m.id for m in send_pending(limit=1)]) == [first]
    assert outside_request(outbound_app, lambda: [m.id for m in send_pending()]) == [second]
    with outbound_app.app_context():
        assert stored(first).status == stored(second).status == "queued"
    assert [r.form["Body"] for r in twilio_api.requests] == ["one", "two"]
    assert all(r.form["StatusCallback"].startswith(BASE) for r in twilio_api.requests)
    assert len(recorded["sent"]) == 2


def test_deliver_by_id_sends_once(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    outbound_app.config["XSMS_SEND_IMMEDIATELY"] = False
    with outbound_app.app_context():
        [message] = send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="one")
        assert deliver(message.id).status == "queued"
        assert deliver(message.id).status == "queued"
        with pytest.raises(LookupError):
            deliver(999999)
    assert len(twilio_api.requests) == 1


def test_status_callback_url_inside_and_outside_a_request(
    outbound_app: Flask,
    directory: Directory,
    twilio_api: TwilioStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def hello() -> t.Any:
        return send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hi")

    # With XSMS_PUBLIC_BASE_URL (set by the fixture), a thread without a request works.
    outside_request(outbound_app, hello)
    outbound_app.config["XSMS_PUBLIC_BASE_URL"] = None
    # Inside a request, the request's own URL is used.
    with outbound_app.test_request_context(base_url="https://host.example.org"):
        hello()
        # A caller may compute it in a request and hand it to a thread.
        integration = create_integration(directory.domains[CARE])
        assert integration is not None
        given = status_callback_url(integration)

    def late_reply() -> t.Any:
        integration = create_integration(directory.domains[CARE])
        assert integration is not None
        return send_message(
            integration, from_number=CARE_NUMBER, to=CUSTOMER, body="late", status_callback=given
        )

    outside_request(outbound_app, late_reply)
    # Outside a request, SERVER_NAME works too.
    outbound_app.config.update(SERVER_NAME="worker.example.org", PREFERRED_URL_SCHEME="https")
    outside_request(outbound_app, hello)
    callbacks = [r.form["StatusCallback"] for r in twilio_api.requests]
    assert callbacks[0].startswith(BASE + "/xsms/hooks/")
    assert callbacks[1].startswith("https://host.example.org/xsms/hooks/")
    assert callbacks[2] == given
    assert callbacks[3].startswith("https://worker.example.org/xsms/hooks/")
    assert len({c.rsplit("/hooks/", 1)[1] for c in callbacks}) == 1

    # With no way to know the public URL, the message is still stored and sent, without
    # a status callback, and the log says how to fix it.
    outbound_app.config["SERVER_NAME"] = None
    [message_id] = outside_request(outbound_app, lambda: [m.id for m in hello()])
    assert "StatusCallback" not in twilio_api.requests[-1].form
    assert caplog.text.count("without a status callback") == 1
    assert "XSMS_PUBLIC_BASE_URL" in caplog.text
    with outbound_app.app_context():
        assert stored(message_id).status == "queued"


def test_two_workers_racing_on_one_pending_row_send_it_once(
    outbound_app: Flask, twilio_api: TwilioStandIn
) -> None:
    outbound_app.config["XSMS_SEND_IMMEDIATELY"] = False
    with outbound_app.app_context():
        [message] = send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="only once")
        message_id = message.id
    # A slow Twilio keeps the first claim open while the second worker tries.
    twilio_api.answer(201, None, delay=0.3)
    barrier = threading.Barrier(4)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with outbound_app.app_context():
                barrier.wait()
                results.append(deliver(message_id).status)
                get_state().session.remove()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(twilio_api.requests) == 1
    with outbound_app.app_context():
        assert stored(message_id).status == "queued"
    assert "queued" in results


def test_stand_in_answers_like_twilio(twilio_api: TwilioStandIn) -> None:
    from twilio.base.exceptions import TwilioRestException
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    http_client = TwilioHttpClient(timeout=5)
    client = Client(ACME_SID, "token", http_client=http_client, environment={})
    client.api.base_url = twilio_api.url
    try:
        created = client.messages.create(to=CUSTOMER, from_=CARE_NUMBER, body="x" * 161)
        assert created.sid.startswith("SM") and len(created.sid) == 34
        assert created.status == "queued" and created.num_segments == "2"
        twilio_api.fail(21610, 400, "Attempt to send to unsubscribed recipient")
        with pytest.raises(TwilioRestException) as info:
            client.messages.create(to=CUSTOMER, from_=CARE_NUMBER, body="x")
        assert (info.value.status, info.value.code) == (400, 21610)
    finally:
        http_client.session.close()
    assert message_json(twilio_api.requests[0])["to"] == CUSTOMER


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("XSMS_TWILIO_TIMEOUT", None),
        ("XSMS_TWILIO_TIMEOUT", 0),
        ("XSMS_TWILIO_TIMEOUT", "10"),
        ("XSMS_SEND_MAX_ATTEMPTS", 0),
        ("XSMS_SEND_MAX_ATTEMPTS", 2.5),
        ("XSMS_TWILIO_API_BASE_URL", "127.0.0.1:8765"),
    ],
)
def test_bad_sending_config_is_refused_at_start_up(tmp_path: t.Any, key: str, value: t.Any) -> None:
    with pytest.raises(ValueError, match=key):
        create_host_app(f"sqlite:///{tmp_path / 'x.sqlite'}", **{key: value})


def test_send_says_when_it_commits_the_callers_pending_changes(
    outbound_app: Flask, twilio_api: TwilioStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    from flask_xsms.models import OptOut

    with outbound_app.app_context():
        session = get_state().session
        with caplog.at_level("WARNING", logger="flask_xsms"):
            send(CARE, from_number="+14155550100", to=CUSTOMER, body="nothing pending")
        assert not [r for r in caplog.records if "pending" in r.getMessage()]
        # the caller's own unfinished work, in the shared session
        session.add(OptOut(account_id="acme", service_number="+1", customer_number="+2",
                           opted_out=False, reason="the caller's"))
        with caplog.at_level("WARNING", logger="flask_xsms"):
            send(CARE, from_number="+14155550100", to=CUSTOMER, body="with pending work")
        (warning,) = [r for r in caplog.records if "pending" in r.getMessage()]
        assert "1 pending change(s) of the caller (OptOut)" in warning.getMessage()
        session.rollback()  # too late: send() committed it
        assert session.scalar(sa.select(OptOut).filter_by(reason="the caller's")) is not None
