"""The conversations pages: the list, a thread, Take over, Hand back, Reply, and the
JSON that the thread page polls."""
from __future__ import annotations

import threading
import typing as t
import urllib.parse

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import request
from flask.testing import FlaskClient

from flask_xsms import Handoff
from flask_xsms import InboundMessage
from flask_xsms import Operator
from flask_xsms import Pair
from flask_xsms._conversation_views import EMPTY_REPLY_MESSAGE
from flask_xsms._conversation_views import EXPIRED_MESSAGE
from flask_xsms._conversation_views import HANDED_BACK_MESSAGE
from flask_xsms._conversation_views import NO_SUCH_PAGE
from flask_xsms._conversation_views import NOT_A_PAGE
from flask_xsms._conversation_views import SENT_MESSAGE
from flask_xsms._conversation_views import TAKEN_OVER_MESSAGE
from flask_xsms._conversation_views import UNKNOWN_STATE
from flask_xsms._extension import get_state
from flask_xsms.models import Conversation
from flask_xsms.models import utcnow
from flask_xsms.numbers import replace_bindings

from .hostapp import Directory
from .pages import Node
from .pages import parse
from .signing import CUSTOMER
from .signing import inbound_params
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn
from .webhooks_support import AGENT_NUMBER
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe

CARE, SALES = "1", "2"
OTHER = "+14155550111"
ANA, BEN = Operator("u1", "Ana"), Operator("u2", "Ben")


@pytest.fixture(autouse=True)
def _no_csrf_token(app: Flask) -> None:
    # The CSRF token has its own tests below; the others post the forms without one.
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture(autouse=True)
def _echo_bot(subscribe: Subscribe) -> None:
    def bot(sender: str, *, message: InboundMessage, **kw: t.Any) -> t.Any:
        if message.body == "a person please":
            return Handoff("wants a person", message="Connecting you to a person…")
        return f"bot: {message.body}"

    subscribe(bot)


@pytest.fixture
def operator(app: Flask) -> list[Operator]:
    """The current operator: ``operator[0]``, Ana unless a test changes it."""
    current = [ANA]
    get_state(app).xsms.operator_loader(lambda: current[0])
    return current


@pytest.fixture
def api(app: Flask, twilio_api: TwilioStandIn) -> TwilioStandIn:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    return twilio_api


def text(
    client: FlaskClient, bound: Bound, body: str, customer: str = CUSTOMER, to: str = CARE_NUMBER,
    **extra: str,
) -> None:
    twiml_messages(signed_post(client, bound.urls.request_url,
                               inbound_params(Body=body, From=customer, To=to, **extra)))


def list_url(domain_id: str = CARE, **query: str) -> str:
    suffix = urllib.parse.urlencode(query)
    return f"/xsms/domains/{domain_id}/twilio-sms/conversations" + (f"?{suffix}" if suffix else "")


def thread_url(conversation_id: int, domain_id: str = CARE, action: str = "") -> str:
    return f"{list_url(domain_id)}/{conversation_id}" + (f"/{action}" if action else "")


def conversation_of(bound: Bound, customer: str = CUSTOMER) -> Conversation:
    (found,) = [c for c in bound.conversations() if c.customer_number == customer]
    return found


def close(app: Flask, conversation_id: int) -> None:
    """Close the conversation, as inactivity does."""
    session = get_state(app).session
    session.execute(
        sa.update(Conversation).where(Conversation.id == conversation_id).values(closed_at=utcnow())
    )
    session.commit()


def rows(html: str) -> list[dict[str, str]]:
    page = parse(html)
    items = page.find_all("li", class_="xsms-cv-item")
    return [
        {
            "number": item.find("a").text,
            "href": item.find("a")["href"] or "",
            "channel": item.find(class_="xsms-cv-channel").text,
            "state": item.find(class_="xsms-cv-state").text,
            "application": item.find(class_="xsms-cv-application").text,
            "last": item.find(class_="xsms-cv-last").text,
        }
        for item in items
    ]


def bubbles(html: str) -> list[Node]:
    return parse(html).find("ol", data_xsms_thread=True).find_all("li", data_xsms_message_id=True)


def last_text(client: FlaskClient, conversation_id: int) -> str:
    """The text of the thread's last bubble."""
    return bubbles(client.get(thread_url(conversation_id)).text)[-1].find(data_xsms_text=True).text


def hidden(node: Node) -> bool:
    return "hidden" in node.attrs


def flashes(client: FlaskClient, url: str) -> list[str]:
    page = parse(client.get(url).text)
    return [p.text for p in page.find_all("p", class_="xsms-flash")]


# -- permission -----------------------------------------------------------------------


def test_every_route_asks_the_permission_callback(
    client: FlaskClient, bound: Bound, directory: Directory
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    directory.allowed = {SALES}
    for url in (list_url(), thread_url(cid), thread_url(cid, action="messages")):
        assert client.get(url).status_code == 403, url
    for action in ("take-over", "hand-back", "reply"):
        assert client.post(thread_url(cid, action=action), data={"body": "x"}).status_code == 403
    assert client.get(thread_url(cid, action="messages")).json == {
        "error": "You may not manage the integrations of this IA Domain."
    }
    assert conversation_of(bound).handoff == "bot"


def test_unknown_domains_and_conversations_are_404(
    client: FlaskClient, bound: Bound
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    assert client.get(list_url("nope")).status_code == 404
    # a conversation of another IA Domain is not found in this one
    for url in (thread_url(cid, SALES), thread_url(10**6), thread_url(cid, SALES, "messages")):
        assert client.get(url).status_code == 404, url
    response = client.get(thread_url(10**6, action="messages"))
    assert response.status_code == 404
    assert response.json == {"error": "There is no such conversation in this IA Domain."}
    assert client.post(thread_url(cid, SALES, "take-over")).status_code == 404
    assert client.post(thread_url(cid, SALES, "reply"), data={"body": "x"}).status_code == 404
    assert conversation_of(bound).handoff == "bot"


# -- the list ---------------------------------------------------------------------------


def test_the_list_shows_each_conversation_newest_first(
    app: Flask, client: FlaskClient, bound: Bound, directory: Directory, operator: list[Operator]
) -> None:
    assert "No conversations yet" in client.get(list_url()).text
    text(client, bound, "hello <b>there</b>")
    text(client, bound, "a person please", customer=OTHER, to=AGENT_NUMBER)
    # the channel is read from the customer's address
    text(client, bound, "from whatsapp", customer="whatsapp:+14155550133")

    response = client.get(list_url())
    assert response.status_code == 200
    assert "<b>there" not in response.text  # escaped
    listed = rows(response.text)
    assert [(r["number"], r["channel"], r["application"], r["state"]) for r in listed] == [
        ("+14155550133", "WhatsApp", "Care Assistant", "Bot"),
        (OTHER, "SMS", "Care Agent Helper", "Needs an agent"),
        (CUSTOMER, "SMS", "Care Assistant", "Bot"),
    ]
    assert listed[0]["last"] == "Bot: bot: from whatsapp"
    assert listed[1]["last"] == "Bot: Connecting you to a person…"
    assert listed[2]["last"] == "Bot: bot: hello <b>there</b>"
    first = conversation_of(bound)
    assert listed[2]["href"] == thread_url(first.id)

    client.post(thread_url(first.id, action="take-over"))
    text(client, bound, "are you a person?")
    listed = rows(client.get(list_url()).text)
    assert (listed[0]["number"], listed[0]["state"], listed[0]["last"]) == (
        CUSTOMER, "Agent: Ana", "Customer: are you a person?"
    )
    close(app, first.id)
    assert rows(client.get(list_url()).text)[0]["state"] == "Closed"
    assert parse(client.get(list_url()).text).find("a", href=f"/xsms/domains/{CARE}/twilio-sms")


def test_the_list_filters_by_number_and_state(
    client: FlaskClient, bound: Bound, operator: list[Operator]
) -> None:
    text(client, bound, "hi")
    text(client, bound, "a person please", customer=OTHER)
    other = conversation_of(bound, OTHER)

    listed = rows(client.get(list_url(number="+1 (415) 555-0111")).text)
    assert [r["number"] for r in listed] == [OTHER]
    assert "Conversations with +14155550111." in client.get(list_url(number=OTHER)).text
    assert [r["number"] for r in rows(client.get(list_url(state="needs_agent")).text)] == [OTHER]
    assert [r["number"] for r in rows(client.get(list_url(state="bot")).text)] == [CUSTOMER]
    client.post(thread_url(other.id, action="take-over"))
    assert [r["state"] for r in rows(client.get(list_url(state="agent")).text)] == ["Agent: Ana"]
    assert rows(client.get(list_url(state="needs_agent")).text) == []
    assert "No conversations match this filter." in client.get(list_url(state="closed")).text
    both = rows(client.get(list_url(state="agent", number=OTHER)).text)
    assert [r["number"] for r in both] == [OTHER]
    assert rows(client.get(list_url(state="bot", number=OTHER)).text) == []

    response = client.get(list_url(number="hello"))
    assert response.status_code == 200
    error = parse(response.text).by_id("xsms-filter-error").text
    assert error.startswith("hello is not a phone number.")
    assert rows(response.text) == []
    response = client.get(list_url(state="sleeping"))
    assert parse(response.text).by_id("xsms-filter-error").text == UNKNOWN_STATE
    assert rows(response.text) == []


def test_the_list_is_paginated_and_a_bad_page_is_404(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    app.config["XSMS_MESSAGES_PER_PAGE"] = 1
    text(client, bound, "hi")
    text(client, bound, "hi", customer=OTHER)
    assert [r["number"] for r in rows(client.get(list_url()).text)] == [OTHER]
    page = client.get(list_url(page="2", state="bot"))
    assert [r["number"] for r in rows(page.text)] == [CUSTOMER]
    newer = parse(page.text).find("a", rel="prev")["href"] or ""
    assert "page=1" in newer and "state=bot" in newer
    assert [r["number"] for r in rows(client.get(list_url(page="0002")).text)] == [CUSTOMER]

    past = client.get(list_url(page="3"))
    assert past.status_code == 404
    assert NO_SUCH_PAGE.format(last=2) in past.text
    for bad in ("0", "-1", "1.5", "abc", "", "\uff11"):
        response = client.get(list_url(page=bad))
        assert response.status_code == 404, bad
        assert NOT_A_PAGE in response.text
    # far past the last page, past any offset a database takes: still a 404
    assert client.get(list_url(page="9" * 30)).status_code == 404
    assert client.get(list_url(page=str(2**62))).status_code == 404


# -- a thread -----------------------------------------------------------------------------


def test_a_thread_shows_the_messages_as_bubbles_oldest_first(
    client: FlaskClient, bound: Bound, operator: list[Operator], api: TwilioStandIn
) -> None:
    media = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    text(client, bound, "<script>alert(1)</script>", NumMedia="2", MediaUrl0=media,
         MediaContentType0="image/jpeg", MediaUrl1="javascript:alert(1)")
    cid = conversation_of(bound).id
    client.post(thread_url(cid, action="take-over"))
    client.post(thread_url(cid, action="reply"), data={"body": "Hi, Ana here."})

    response = client.get(thread_url(cid))
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    page = parse(response.text)
    assert page.find("h1").text == f"Conversation with {CUSTOMER}"
    assert page.find("strong", data_xsms_state=True).text == "Agent: Ana"
    shown = bubbles(response.text)
    assert [b["data-xsms-bubble"] for b in shown] == ["customer", "bot", "operator"]
    sender = [b.find(data_xsms_sender=True).text for b in shown]
    assert sender == ["Customer", "Bot", "Ana (operator)"]
    assert [b.find(data_xsms_text=True).text for b in shown] == [
        "<script>alert(1)</script>", "bot: <script>alert(1)</script>", "Hi, Ana here."
    ]
    assert [b.find(data_xsms_status_words=True).text for b in shown] == [
        "Received", "Sent as the answer to the customer's message", "Queued at Twilio"
    ]
    listed = shown[0].find(data_xsms_media=True)
    (link,) = listed.find_all("a")  # only web addresses are links
    assert (link["href"], link.text) == (media, media)
    assert [item.text for item in listed.find_all("li")] == [
        f"{media} (image/jpeg)", "javascript:alert(1)"
    ]
    assert all(b.find("time")["datetime"] for b in shown)
    ids = [int(b["data-xsms-message-id"] or 0) for b in shown]
    assert ids == sorted(ids)
    assert page.find("section", data_xsms_conversation=True)["data-last-id"] == str(ids[-1])
    # Hand back is offered to the operator who has it; Take over is not
    assert hidden(page.find("form", data_xsms_take_over=True))
    assert not hidden(page.find("form", data_xsms_hand_back=True))
    assert page.find("textarea", id="xsms-reply")
    labels = [label.text for label in page.find_all("label")]
    assert "Reply" in labels


def test_take_over_and_hand_back_redirect_with_a_message(
    client: FlaskClient, bound: Bound, operator: list[Operator], subscribe: Subscribe
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    page = parse(client.get(thread_url(cid)).text)
    assert hidden(page.find("form", data_xsms_hand_back=True))
    assert not hidden(page.find("form", data_xsms_take_over=True))

    response = client.post(thread_url(cid, action="take-over"))
    assert response.status_code == 302
    assert response.location == thread_url(cid)
    assert flashes(client, thread_url(cid)) == [TAKEN_OVER_MESSAGE]
    found = conversation_of(bound)
    assert (found.handoff, found.agent_id, found.agent_name) == ("agent", "u1", "Ana")
    # the chatbot is not called while Ana has it
    text(client, bound, "still there?")
    assert last_text(client, cid) == "still there?"

    response = client.post(thread_url(cid, action="hand-back"))
    assert response.status_code == 302
    assert flashes(client, thread_url(cid)) == [HANDED_BACK_MESSAGE]
    assert conversation_of(bound).handoff == "bot"
    text(client, bound, "back?")
    assert last_text(client, cid) == "bot: back?"


def test_a_conversation_that_needs_an_agent_says_why(
    client: FlaskClient, bound: Bound, operator: list[Operator]
) -> None:
    text(client, bound, "a person please")
    cid = conversation_of(bound).id
    page = parse(client.get(thread_url(cid)).text)
    assert page.find("strong", data_xsms_state=True).text == "Needs an agent"
    reason = page.find("span", data_xsms_reason=True)
    assert not hidden(reason)
    assert reason.text == "The chatbot asked for a person: wants a person"
    # an operator takes it, or gives it back to the chatbot without taking it
    assert not hidden(page.find("form", data_xsms_take_over=True))
    assert not hidden(page.find("form", data_xsms_hand_back=True))
    client.post(thread_url(cid, action="hand-back"))
    assert flashes(client, thread_url(cid)) == [HANDED_BACK_MESSAGE]
    assert conversation_of(bound).handoff == "bot"
    assert hidden(parse(client.get(thread_url(cid)).text).find("span", data_xsms_reason=True))


def test_a_second_operator_is_told_who_has_the_conversation(
    client: FlaskClient, bound: Bound, operator: list[Operator], api: TwilioStandIn
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    operator[0] = BEN
    client.post(thread_url(cid, action="take-over"))
    operator[0] = ANA
    page = parse(client.get(thread_url(cid)).text)
    # Ana may try Take over (and learn who has it); Hand back is Ben's
    assert not hidden(page.find("form", data_xsms_take_over=True))
    assert hidden(page.find("form", data_xsms_hand_back=True))

    client.post(thread_url(cid, action="take-over"))
    assert flashes(client, thread_url(cid)) == ["Ben has this conversation."]
    client.post(thread_url(cid, action="hand-back"))
    assert flashes(client, thread_url(cid)) == ["Ben has this conversation."]
    response = client.post(thread_url(cid, action="reply"), data={"body": "me too"})
    assert response.status_code == 409
    page = parse(response.text)
    assert page.by_id("xsms-reply-error").text == "Ben has this conversation."
    assert page.find("textarea", id="xsms-reply").text == "me too"
    found = conversation_of(bound)
    assert (found.handoff, found.agent_name) == ("agent", "Ben")
    assert api.messages == []


def test_two_operators_clicking_take_over_at_once_one_is_told_who_won(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    operators = {"Ana": ANA, "Ben": BEN}
    get_state(app).xsms.operator_loader(lambda: operators.get(request.headers.get("X-Who", "")))
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    clients = {name: app.test_client() for name in operators}
    barrier = threading.Barrier(2)
    said: dict[str, list[str]] = {}

    def click(name: str) -> None:
        headers = {"X-Who": name}
        barrier.wait()
        clients[name].post(thread_url(cid, action="take-over"), headers=headers)
        page = parse(clients[name].get(thread_url(cid), headers=headers).text)
        said[name] = [p.text for p in page.find_all("p", class_="xsms-flash")]

    threads = [threading.Thread(target=click, args=(name,)) for name in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    winner = conversation_of(bound).agent_name
    loser = "Ben" if winner == "Ana" else "Ana"
    assert said == {winner: [TAKEN_OVER_MESSAGE], loser: [f"{winner} has this conversation."]}


def test_a_reply_goes_to_the_customer_once_taken_over(
    client: FlaskClient, bound: Bound, operator: list[Operator], api: TwilioStandIn
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    response = client.post(thread_url(cid, action="reply"), data={"body": "Hello <there>"})
    assert response.status_code == 409
    page = parse(response.text)
    assert page.by_id("xsms-reply-error").text == "Take the conversation over to reply."
    assert page.find("textarea", id="xsms-reply").text == "Hello <there>"
    assert page.find("textarea", id="xsms-reply")["aria-invalid"] == "true"
    assert api.messages == []

    client.post(thread_url(cid, action="take-over"))
    response = client.post(thread_url(cid, action="reply"), data={"body": "   "})
    assert response.status_code == 400
    assert parse(response.text).by_id("xsms-reply-error").text == EMPTY_REPLY_MESSAGE

    response = client.post(thread_url(cid, action="reply"), data={"body": "Hello <there>"})
    assert response.status_code == 302
    assert response.location == thread_url(cid) + "#xsms-reply-form"
    assert flashes(client, thread_url(cid)) == [SENT_MESSAGE]
    assert [(r.form["From"], r.form["To"], r.form["Body"]) for r in api.messages] == [
        (CARE_NUMBER, CUSTOMER, "Hello <there>")
    ]
    last = bubbles(client.get(thread_url(cid)).text)[-1]
    assert last["data-xsms-bubble"] == "operator"
    assert last.find(data_xsms_sender=True).text == "Ana (operator)"


def test_a_reply_to_a_customer_who_opted_out_says_so(
    client: FlaskClient, bound: Bound, operator: list[Operator], api: TwilioStandIn
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    client.post(thread_url(cid, action="take-over"))
    assert flashes(client, thread_url(cid)) == [TAKEN_OVER_MESSAGE]
    text(client, bound, "STOP")
    response = client.post(thread_url(cid, action="reply"), data={"body": "are you sure?"})
    assert response.status_code == 302
    (flashed,) = flashes(client, thread_url(cid))
    assert flashed.startswith("Not sent: The customer opted out (texted STOP)")
    assert "(error 21610)" in flashed
    last = bubbles(client.get(thread_url(cid)).text)[-1]
    assert last.find(data_xsms_text=True).text == "are you sure?"
    assert last.find(data_xsms_status_words=True).text == "Not sent"
    error = last.find(data_xsms_error=True)
    assert not hidden(error)
    assert error.text.startswith("The customer opted out")
    assert api.messages == []


def test_a_reply_that_twilio_could_not_take_yet_is_tried_again(
    client: FlaskClient, bound: Bound, operator: list[Operator], api: TwilioStandIn
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    client.post(thread_url(cid, action="take-over"))
    assert flashes(client, thread_url(cid)) == [TAKEN_OVER_MESSAGE]
    api.fail(20500, status=503, message="Service Unavailable")
    response = client.post(thread_url(cid, action="reply"), data={"body": "one moment"})
    assert response.status_code == 302
    assert flashes(client, thread_url(cid)) == [
        "Not sent yet, it will be tried again: Unable to create record: Service Unavailable"
    ]
    last = bubbles(client.get(thread_url(cid)).text)[-1]
    assert last.find(data_xsms_status_words=True).text == "Waiting to be sent"
    assert "settled" not in " ".join(last.attrs)


def test_a_reply_that_cannot_be_sent_between_the_numbers_says_why(
    client: FlaskClient, bound: Bound, directory: Directory, operator: list[Operator],
    api: TwilioStandIn,
) -> None:
    text(client, bound, "hi", customer="whatsapp:+14155550133")
    text(client, bound, "hi")
    whatsapp = conversation_of(bound, "whatsapp:+14155550133").id
    sms = conversation_of(bound).id
    client.post(thread_url(whatsapp, action="take-over"))
    response = client.post(thread_url(whatsapp, action="reply"), data={"body": "hello"})
    assert response.status_code == 400
    error = parse(response.text).by_id("xsms-reply-error").text
    assert error.startswith(
        f"This reply cannot be sent from {CARE_NUMBER} to whatsapp:+14155550133:"
    )
    # the Twilio number was unbound since the conversation started
    client.post(thread_url(sms, action="take-over"))
    replace_bindings(directory.domains[CARE], [Pair(AGENT_NUMBER, "12")])
    response = client.post(thread_url(sms, action="reply"), data={"body": "hello"})
    assert response.status_code == 400
    error = parse(response.text).by_id("xsms-reply-error").text
    assert error.startswith(f"This reply cannot be sent from {CARE_NUMBER} to {CUSTOMER}:")
    assert "is not bound" in error
    assert api.messages == []


def test_a_closed_conversation_offers_no_buttons(
    app: Flask, client: FlaskClient, bound: Bound, operator: list[Operator]
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    close(app, cid)
    page = parse(client.get(thread_url(cid)).text)
    assert page.find("strong", data_xsms_state=True).text == "Closed"
    for form in ("data_xsms_take_over", "data_xsms_hand_back", "data_xsms_reply"):
        assert hidden(page.find("form", **{form: True}))
    assert not hidden(page.find("p", data_xsms_closed=True))
    client.post(thread_url(cid, action="take-over"))
    assert flashes(client, thread_url(cid)) == ["This conversation is closed."]
    assert conversation_of(bound).handoff == "bot"


# -- CSRF ---------------------------------------------------------------------------------


def test_the_buttons_need_the_pages_csrf_token(
    app: Flask, client: FlaskClient, bound: Bound, operator: list[Operator]
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    client.post(thread_url(cid, action="take-over"))
    assert flashes(client, thread_url(cid)) == [EXPIRED_MESSAGE]
    assert conversation_of(bound).handoff == "bot"
    response = client.post(thread_url(cid, action="reply"), data={"body": "kept"})
    assert response.status_code == 400
    page = parse(response.text)
    assert page.by_id("xsms-reply-error").text == EXPIRED_MESSAGE
    assert page.find("textarea", id="xsms-reply").text == "kept"

    page = parse(client.get(thread_url(cid)).text)
    token = page.find("form", data_xsms_take_over=True).find("input", name="csrf_token")["value"]
    client.post(thread_url(cid, action="take-over"), data={"csrf_token": token})
    assert conversation_of(bound).handoff == "agent"
    client.post(thread_url(cid, action="hand-back"), data={"csrf_token": token})
    assert conversation_of(bound).handoff == "bot"


def test_host_csrf_protection_covers_the_buttons(
    csrf_app: Flask, client: FlaskClient, bound: Bound
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    protected = csrf_app.test_client()
    for action in ("take-over", "hand-back", "reply"):
        response = protected.post(thread_url(cid, action=action), data={"body": "x"})
        assert response.status_code == 400, action
        assert "CSRF" in response.text
    assert conversation_of(bound).handoff == "bot"
    page = parse(protected.get(thread_url(cid)).text)
    token = page.find("form", data_xsms_take_over=True).find("input", name="csrf_token")["value"]
    response = protected.post(thread_url(cid, action="take-over"), data={"csrf_token": token})
    assert response.status_code == 302
    assert conversation_of(bound).handoff == "agent"


# -- the JSON the page polls --------------------------------------------------------------


def test_the_poll_answers_new_messages_statuses_and_the_state(
    client: FlaskClient, bound: Bound, operator: list[Operator], api: TwilioStandIn
) -> None:
    text(client, bound, "hi")
    cid = conversation_of(bound).id
    answer = client.get(thread_url(cid, action="messages")).json
    assert answer["conversation"] == {
        "state": "bot", "words": "Bot", "reason": None, "can_take_over": True,
        "can_hand_back": False, "can_reply": True, "yours": False,
    }
    first, reply = answer["messages"]
    assert (first["side"], first["sender"], first["body"], first["settled"]) == (
        "customer", "Customer", "hi", True
    )
    assert (reply["side"], reply["body"], reply["status"]) == ("bot", "bot: hi", "replied")
    assert set(first) == {
        "id", "side", "sender", "body", "media", "created_at", "time", "status",
        "status_words", "error", "settled",
    }
    after = reply["id"]
    assert client.get(thread_url(cid, action=f"messages?after={after}")).json["messages"] == []

    client.post(thread_url(cid, action="take-over"))
    text(client, bound, "a <person>?")
    client.post(thread_url(cid, action="reply"), data={"body": "yes"})
    answer = client.get(thread_url(cid, action=f"messages?after={after}")).json
    assert answer["conversation"]["words"] == "Agent: Ana"
    assert answer["conversation"]["yours"] is True
    assert [(m["side"], m["body"]) for m in answer["messages"]] == [
        ("customer", "a <person>?"), ("operator", "yes")
    ]
    # what the customer sent while Ana has it is not watched any longer
    assert answer["messages"][0]["settled"] is True
    sent = answer["messages"][1]
    assert (sent["sender"], sent["status"], sent["status_words"], sent["settled"]) == (
        "Ana (operator)", "queued", "Queued at Twilio", False
    )
    # Twilio reports the delivery: the next poll from before it says so
    assert len(api.messages) == 1
    status = {"MessageSid": bound.messages(direction="outbound")[-1].sid or "",
              "MessageStatus": "undelivered", "ErrorCode": "30003", "AccountSid": "AC" + "1" * 32}
    signed_post(client, bound.urls.status_callback_url, status)
    (updated,) = client.get(thread_url(cid, action=f"messages?after={sent['id'] - 1}")).json[
        "messages"
    ]
    assert (updated["status_words"], updated["settled"]) == ("Not delivered", True)
    assert updated["error"] == (
        "The customer's phone is unreachable (switched off or out of coverage). (error 30003)"
    )

    for bad in ("-1", "x", "1.5", "9" * 40):
        response = client.get(thread_url(cid, action=f"messages?after={bad}"))
        assert response.status_code == 400, bad
        assert "error" in response.json
