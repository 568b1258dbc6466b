from __future__ import annotations

import threading
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import Pair
from flask_xsms import signals
from flask_xsms.errors import OptedOut
from flask_xsms._extension import get_state
from flask_xsms.integrations import create_integration
from flask_xsms.models import Integration
from flask_xsms.models import Message
from flask_xsms.numbers import replace_bindings
from flask_xsms._optouts import is_opted_out
from flask_xsms.outbound import record_status
from flask_xsms.outbound import send

from .hostapp import Directory
from .signing import signed_post
from .twilio_server import TwilioStandIn

CARE, SALES = "1", "2"
CARE_NUMBER = "+14155550100"
SALES_NUMBER = "+14155550101"
CUSTOMER = "+14155550123"


@pytest.fixture
def sent(
    app: Flask, directory: Directory, twilio_api: TwilioStandIn
) -> tuple[int, str]:
    """An outbound message Twilio accepted: (its id, its sid)."""
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    with app.app_context():
        replace_bindings(directory.domains[CARE], [Pair(CARE_NUMBER, "11")])
        replace_bindings(directory.domains[SALES], [Pair(SALES_NUMBER, "21")])
        [message] = send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="hello")
        assert message.sid is not None
        return message.id, message.sid


@pytest.fixture
def changes() -> t.Iterator[list[dict[str, t.Any]]]:
    seen: list[dict[str, t.Any]] = []

    def on_change(sender: Flask, **kwargs: t.Any) -> None:
        seen.append({"sender": sender, **kwargs})

    with signals.delivery_status_changed.connected_to(on_change):
        yield seen


def care(directory: Directory) -> Integration:
    integration = create_integration(directory.domains[CARE])
    assert integration is not None
    return integration


def callback(sid: str, status: str, **extra: str) -> dict[str, str]:
    """The parameters of a status callback, as Twilio posts them."""
    return {
        "AccountSid": "AC" + "1" * 32,
        "ApiVersion": "2010-04-01",
        "From": CARE_NUMBER,
        "To": CUSTOMER,
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        **extra,
    }


def status_of(message_id: int) -> tuple[str, str | None]:
    session = get_state().session
    session.expire_all()
    message = session.get(Message, message_id)
    assert message is not None
    return message.status, message.error_code


def apply(directory: Directory, sid: str, *statuses: str) -> list[str]:
    """Apply callbacks in this order; the stored status after each."""
    after = []
    for status in statuses:
        message = record_status(care(directory), callback(sid, status))
        assert message is not None
        after.append(status_of(message.id)[0])
    return after


def test_statuses_move_forward_in_order(
    app: Flask, directory: Directory, sent: tuple[int, str], changes: list[dict[str, t.Any]]
) -> None:
    message_id, sid = sent
    with app.app_context():
        after = apply(directory, sid, "sending", "sent", "delivered")
    assert after == ["sending", "sent", "delivered"]
    assert [(c["previous_status"], c["status"]) for c in changes] == [
        ("queued", "sending"),
        ("sending", "sent"),
        ("sent", "delivered"),
    ]
    assert all(c["sender"] is app and c["message"].id == message_id for c in changes)
    assert all(c["error_code"] is None for c in changes)


def test_out_of_order_callbacks_never_move_backwards(
    app: Flask, directory: Directory, sent: tuple[int, str], changes: list[dict[str, t.Any]]
) -> None:
    _, sid = sent
    with app.app_context():
        after = apply(directory, sid, "delivered", "sent", "sending", "queued", "accepted")
    assert after == ["delivered"] * 5
    assert [c["status"] for c in changes] == ["delivered"]


def test_a_later_status_still_applies_after_a_skipped_one(
    app: Flask, directory: Directory, sent: tuple[int, str]
) -> None:
    _, sid = sent
    with app.app_context():
        after = apply(directory, sid, "sent", "sending", "delivered")
    assert after == ["sent", "sent", "delivered"]


@pytest.mark.parametrize("final", ["failed", "undelivered", "canceled", "read"])
def test_terminal_statuses_never_change(
    app: Flask, directory: Directory, sent: tuple[int, str], final: str
) -> None:
    _, sid = sent
    with app.app_context():
        after = apply(directory, sid, final, "delivered", "read", "failed", "sent")
    assert after == [final] * 5


def test_delivered_can_still_become_read(
    app: Flask, directory: Directory, sent: tuple[int, str]
) -> None:
    _, sid = sent
    with app.app_context():
        after = apply(directory, sid, "delivered", "undelivered", "read")
    assert after == ["delivered", "delivered", "read"]


def test_error_code_is_stored_with_the_status(
    app: Flask, directory: Directory, sent: tuple[int, str], changes: list[dict[str, t.Any]]
) -> None:
    message_id, sid = sent
    with app.app_context():
        record_status(care(directory), callback(sid, "undelivered", ErrorCode="30003"))
        assert status_of(message_id) == ("undelivered", "30003")
        assert not is_opted_out("acme", CARE_NUMBER, CUSTOMER)
    [change] = changes
    assert (change["status"], change["error_code"]) == ("undelivered", "30003")


def test_error_21610_marks_the_customer_opted_out(
    app: Flask, directory: Directory, sent: tuple[int, str]
) -> None:
    message_id, sid = sent
    with app.app_context():
        record_status(care(directory), callback(sid, "failed", ErrorCode="21610"))
        assert status_of(message_id) == ("failed", "21610")
        assert is_opted_out("acme", CARE_NUMBER, CUSTOMER)


def test_unknown_status_is_ignored(
    app: Flask, directory: Directory, sent: tuple[int, str], changes: list[dict[str, t.Any]]
) -> None:
    message_id, sid = sent
    with app.app_context():
        assert record_status(care(directory), callback(sid, "teleported")) is not None
        assert status_of(message_id)[0] == "queued"
    assert changes == []


def test_only_the_integrations_own_outbound_messages_are_found(
    app: Flask, directory: Directory, sent: tuple[int, str], changes: list[dict[str, t.Any]]
) -> None:
    message_id, sid = sent
    with app.app_context():
        sales = create_integration(directory.domains[SALES])
        assert sales is not None
        assert record_status(sales, callback(sid, "delivered")) is None
        assert record_status(care(directory), callback("SM" + "f" * 32, "delivered")) is None
        assert record_status(care(directory), {"MessageStatus": "delivered"}) is None
        # An inbound message with a sid is never changed by a status callback.
        session = get_state().session
        session.add(
            Message(
                sid="SM" + "e" * 32,
                direction="inbound",
                integration_id=care(directory).id,
                from_number=CUSTOMER,
                to_number=CARE_NUMBER,
                status="received",
            )
        )
        session.commit()
        assert record_status(care(directory), callback("SM" + "e" * 32, "delivered")) is None
        assert status_of(message_id)[0] == "queued"
    assert changes == []


def test_the_legacy_sms_parameters_work_alone(
    app: Flask, directory: Directory, sent: tuple[int, str]
) -> None:
    message_id, sid = sent
    with app.app_context():
        record_status(care(directory), {"SmsSid": sid, "SmsStatus": "sent"})
        assert status_of(message_id)[0] == "sent"


def test_concurrent_callbacks_leave_the_latest_status(
    app: Flask, directory: Directory, sent: tuple[int, str], changes: list[dict[str, t.Any]]
) -> None:
    message_id, sid = sent
    statuses = ["sent", "delivered", "sending", "sent", "queued", "delivered"]
    barrier = threading.Barrier(len(statuses))
    errors: list[BaseException] = []

    def post(status: str) -> None:
        try:
            with app.app_context():
                integration = care(directory)
                barrier.wait()
                record_status(integration, callback(sid, status))
                get_state().session.remove()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=post, args=(s,)) for s in statuses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert status_of(message_id)[0] == "delivered"
    # Each change moved forward, and "delivered" was reached once.
    assert [c["status"] for c in changes].count("delivered") == 1
    ranks = ["queued", "sending", "sent", "delivered"]
    for change in changes:
        assert ranks.index(change["status"]) > ranks.index(change["previous_status"])


def test_end_to_end_through_the_status_callback_url_twilio_was_given(
    app: Flask,
    client: FlaskClient,
    twilio_api: TwilioStandIn,
    sent: tuple[int, str],
    changes: list[dict[str, t.Any]],
) -> None:
    message_id, sid = sent
    url = twilio_api.messages[0].form["StatusCallback"]
    for status in ("sent", "delivered", "sent"):
        assert signed_post(client, url, callback(sid, status)).status_code == 204
    forged = signed_post(client, url, callback(sid, "failed"), token="not-the-token")
    assert forged.status_code == 403
    with app.app_context():
        assert status_of(message_id) == ("delivered", None)
    assert [(c["previous_status"], c["status"]) for c in changes] == [
        ("queued", "sent"),
        ("sent", "delivered"),
    ]


def test_end_to_end_error_21610_opts_the_customer_out(
    app: Flask,
    client: FlaskClient,
    twilio_api: TwilioStandIn,
    sent: tuple[int, str],
) -> None:
    message_id, sid = sent
    url = twilio_api.messages[0].form["StatusCallback"]
    response = signed_post(client, url, callback(sid, "failed", ErrorCode="21610"))
    assert response.status_code == 204
    with app.app_context():
        assert status_of(message_id) == ("failed", "21610")
        assert is_opted_out("acme", CARE_NUMBER, CUSTOMER)
        with pytest.raises(OptedOut):
            send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body="still there?")
    assert len(twilio_api.messages) == 1
