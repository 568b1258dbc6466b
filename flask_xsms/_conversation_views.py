"""The conversations pages of an IA Domain: the list, and a thread an operator can take
over, answer and hand back. Every view checks the host's permission callback first.

The thread page works without JavaScript; ``conversations.js`` polls :func:`messages`
to show new messages and delivery statuses as they come.
"""
from __future__ import annotations

import collections.abc as c
import dataclasses
import typing as t

from flask import abort
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from . import _channels as channels
from . import conversations as service
from . import _message_log as message_log
from . import statuses
from .conversations import ConversationNotFound
from .errors import ConversationTaken
from .errors import InvalidMessage
from .errors import NotTakenOver
from .errors import NumberNotBound
from .errors import NumberError
from .errors import SendError
from ._forms import BrowserForm
from .models import as_utc
from .models import Conversation
from .models import Message
from ._state import get_state
from ._values import Domain
from ._values import Operator
from ._web import json_error
from ._web import page_number

#: The state filter's choices and the words the pages show for each state.
STATE_WORDS = {
    service.NEEDS_AGENT: "Needs an agent",
    service.AGENT: "Agent",
    service.BOT: "Bot",
    service.CLOSED: "Closed",
}
#: Flashed after Take over.
TAKEN_OVER_MESSAGE = (
    "You have taken this conversation over: the chatbot stays silent until you hand it back."
)
#: Flashed after Hand back.
HANDED_BACK_MESSAGE = "The chatbot answers this conversation again."
#: Flashed after Send.
SENT_MESSAGE = "Your reply was sent."
#: Shown when a form's CSRF token is missing or expired.
EXPIRED_MESSAGE = "This form has expired. Nothing was done: reload the page and try again."
#: Shown when Send is clicked with an empty Reply.
EMPTY_REPLY_MESSAGE = "Type a reply first."
#: Shown when the outbox cannot send between the conversation's numbers.
CANNOT_SEND = "This reply cannot be sent from {service} to {customer}: {reason}"
#: The 404 of a list page past the last page.
NO_SUCH_PAGE = "There is no such page of conversations: the last one is page {last}."
#: The 404 of a list page that is not a whole number from 1.
NOT_A_PAGE = "There is no such page of conversations: pages are numbered 1, 2, 3 and so on."
#: Shown for a state filter that is none of the states.
UNKNOWN_STATE = "There is no such state. Choose one in the list, or click Show all."

# The largest row offset the databases take (a signed 64-bit integer).
#: The largest conversation id (the column is a 32-bit integer).
_MAX_ID = 2**31 - 1

#: Delivery statuses in words, by stored status.
STATUS_WORDS = {
    # inbound
    statuses.RECEIVED: "Received",
    statuses.PROCESSING: "Received",
    statuses.HANDLED: "Received",
    statuses.UNROUTED: "No number binding knows the number it was sent to",
    statuses.FALLBACK: "Received by the Fallback URL",
    # outbound
    statuses.PENDING: "Waiting to be sent",
    statuses.SENDING: "Sending",
    statuses.REPLIED: "Sent as the answer to the customer's message",
    "accepted": "Accepted by Twilio",
    "scheduled": "Scheduled",
    "queued": "Queued at Twilio",
    "sent": "Sent",
    "partially_delivered": "Partly delivered",
    "delivered": "Delivered",
    "undelivered": "Not delivered",
    statuses.FAILED: "Not sent",
    "canceled": "Canceled",
    "read": "Read",
}
#: Statuses that will not change any more: the page stops watching these messages.
SETTLED_STATUSES = frozenset(
    {
        statuses.HANDLED, statuses.FAILED, statuses.UNROUTED, statuses.FALLBACK,
        statuses.REPLIED, "delivered", "undelivered", "canceled", "read",
    }
)
#: Twilio's error codes that operators meet most, in words.
ERROR_WORDS = {
    "21610": "The customer opted out (texted STOP): nothing can be sent until they text START.",
    "21211": "The customer's number is not a valid phone number.",
    "21614": "The customer's number cannot receive SMS.",
    "30003": "The customer's phone is unreachable (switched off or out of coverage).",
    "30004": "The customer blocked this message.",
    "30005": "The customer's number is unknown or no longer in service.",
    "30006": "The customer's number is a landline or cannot receive SMS.",
    "30007": "The carrier filtered this message.",
    "30008": "The carrier could not deliver this message.",
}


class TakeOverForm(BrowserForm):
    """The Take over button: its CSRF token."""


class HandBackForm(BrowserForm):
    """The Hand back button: its CSRF token."""


class ReplyForm(BrowserForm):
    """An operator's reply to the customer."""

    body = TextAreaField("Reply")


@dataclasses.dataclass(frozen=True)
class Row:
    """One conversation as the list shows it."""

    conversation: Conversation
    number: str
    channel: str
    application: str
    state: str
    state_words: str
    last_message: Message | None
    last_sender: str


def create_conversations_blueprint() -> Blueprint:
    """Build the ``xsms_conversations`` blueprint for one app."""
    bp = Blueprint("xsms_conversations", __name__)
    base = "/domains/<domain_id>/twilio-sms/conversations"
    one = f"{base}/<int(max={_MAX_ID}):conversation_id>"
    bp.add_url_rule(base, view_func=conversation_list)
    bp.add_url_rule(one, view_func=thread)
    bp.add_url_rule(f"{one}/messages", view_func=messages)
    bp.add_url_rule(f"{one}/take-over", view_func=take_over, methods=["POST"])
    bp.add_url_rule(f"{one}/hand-back", view_func=hand_back, methods=["POST"])
    bp.add_url_rule(f"{one}/reply", view_func=reply, methods=["POST"])
    return bp


# -- the list ------------------------------------------------------------------------


def conversation_list(domain_id: str) -> str:
    """The domain's conversations, newest activity first, filterable by number and state.

    Pages are numbered as on the messages page: a page that is not a whole number from 1,
    or past the last page, is a 404.
    """
    domain = get_state().manageable_domain(domain_id)
    number = request.args.get("number", "").strip()
    state = request.args.get("state", "").strip()
    page = page_number(request.args.get("page"), NOT_A_PAGE)
    per_page = current_app.config["XSMS_MESSAGES_PER_PAGE"]
    pagination, number_filter, error = None, "", None
    try:
        number_filter = message_log.number_filter(number)
    except NumberError as e:
        error = f"{e} No conversations are shown: correct the number, or click Show all."
    if state and state not in STATE_WORDS:
        error = UNKNOWN_STATE
    rows: list[Row] = []
    if error is None:
        pagination = service.conversations(
            domain, page=page, per_page=per_page, number=number_filter, state=state
        )
        if page > 1 and not pagination.items:
            abort(404, NO_SUCH_PAGE.format(last=max(pagination.pages, 1)))
        names = message_log.application_names(domain)
        rows = [_row(summary, names) for summary in pagination.items]
    return render_template(
        "xsms/conversations.html",
        domain=domain,
        pagination=pagination,
        rows=rows,
        number=number,
        number_filter=number_filter,
        state=state,
        states=STATE_WORDS,
        error=error,
        as_utc=as_utc,
    )


def _row(summary: service.Summary, names: c.Mapping[str, str]) -> Row:
    conversation = summary.conversation
    number, channel = channels.display(conversation.customer_number)
    return Row(
        conversation=conversation,
        number=number,
        channel=channel,
        application=_application_name(names, conversation),
        state=summary.state,
        state_words=state_words(summary.state, conversation),
        last_message=summary.last_message,
        last_sender=sender_words(summary.last_message) if summary.last_message else "",
    )


# -- one thread ----------------------------------------------------------------------


def thread(domain_id: str, conversation_id: int) -> str:
    """A conversation's messages as chat bubbles, oldest first, with its buttons."""
    domain = get_state().manageable_domain(domain_id)
    return _render_thread(domain, conversation_id)


def _render_thread(
    domain: Domain, conversation_id: int, *, reply_form: ReplyForm | None = None,
    reply_error: str | None = None,
) -> str:
    found = _conversation(domain, conversation_id)
    messages_ = service.thread(domain, conversation_id)
    operator = get_state().operator()
    number, channel = channels.display(found.customer_number)
    names = message_log.application_names(domain)
    return render_template(
        "xsms/conversation.html",
        domain=domain,
        conversation=found,
        number=number,
        channel=channel,
        application=_application_name(names, found),
        view=_view_of(found, operator),
        messages=[bubble(m) for m in messages_],
        last_id=messages_[-1].id if messages_ else 0,
        take_over_form=TakeOverForm(formdata=None),
        hand_back_form=HandBackForm(formdata=None),
        reply_form=reply_form or ReplyForm(formdata=None),
        reply_error=reply_error,
    )


def messages(domain_id: str, conversation_id: int) -> Response | tuple[Response, int]:
    """JSON for the page's script: the messages with an id above ``after``, oldest first,
    and the conversation's state."""
    try:
        domain = get_state().manageable_domain(domain_id)
        found = _conversation(domain, conversation_id)
        after = request.args.get("after", "0")
        if not (after.isascii() and after.isdigit()) or len(after) > 18:
            abort(400, "after must be a message id (a whole number from 0).")
        messages_ = service.thread(domain, conversation_id, after=int(after))
    except HTTPException as e:
        return json_error(e.description or e.name, e.code or 500)
    return jsonify(
        conversation=_view_of(found, get_state().operator()).as_json(),
        messages=[bubble(m).as_json() for m in messages_],
    )


def take_over(domain_id: str, conversation_id: int) -> Response:
    """The Take over button: the chatbot stops answering; this operator does."""
    return _change_hands(domain_id, conversation_id, TakeOverForm(), service.take_over,
                         TAKEN_OVER_MESSAGE)


def hand_back(domain_id: str, conversation_id: int) -> Response:
    """The Hand back button: the chatbot answers again."""
    return _change_hands(domain_id, conversation_id, HandBackForm(), service.hand_back,
                         HANDED_BACK_MESSAGE)


def _change_hands(
    domain_id: str,
    conversation_id: int,
    form: BrowserForm,
    change: t.Callable[[Domain, int, Operator], Conversation],
    done: str,
) -> Response:
    domain = get_state().manageable_domain(domain_id)
    _conversation(domain, conversation_id)
    if not form.validate_on_submit():
        flash(EXPIRED_MESSAGE, "error")
    else:
        try:
            change(domain, conversation_id, get_state().operator())
        except ConversationTaken as e:
            flash(e.message, "error")
        except ConversationNotFound as e:
            flash(str(e), "error")
        else:
            flash(done, "success")
    return redirect(_thread_url(domain, conversation_id))


def reply(domain_id: str, conversation_id: int) -> Response | tuple[str, int]:
    """The Send button: the operator's reply goes to the customer through the outbox.

    A reply that could not be sent (not taken over, another operator has it, an expired
    form, an empty text) shows the page again with the text kept; one that was stored but
    failed (the customer opted out…) is in the thread with its error.
    """
    domain = get_state().manageable_domain(domain_id)
    _conversation(domain, conversation_id)
    form = ReplyForm()
    body = (form.body.data or "").strip()
    if not form.validate_on_submit():
        return _render_thread(domain, conversation_id, reply_form=form,
                              reply_error=EXPIRED_MESSAGE), 400
    if not body:
        return _render_thread(domain, conversation_id, reply_form=form,
                              reply_error=EMPTY_REPLY_MESSAGE), 400
    try:
        service.reply(domain, conversation_id, get_state().operator(), form.body.data or "")
    except (NotTakenOver, ConversationTaken) as e:
        return _render_thread(domain, conversation_id, reply_form=form, reply_error=str(e)), 409
    except InvalidMessage as e:
        return _render_thread(domain, conversation_id, reply_form=form, reply_error=str(e)), 400
    except (NumberError, NumberNotBound) as e:
        # e.g. the Twilio number is no longer bound, or a channel the outbox can't send on
        found = _conversation(domain, conversation_id)
        error = CANNOT_SEND.format(
            service=found.service_number, customer=found.customer_number, reason=e
        )
        return _render_thread(domain, conversation_id, reply_form=form, reply_error=error), 400
    except SendError as e:
        stored = e.sent_message is not None
        if e.retryable and stored and e.sent_message.status == statuses.PENDING:
            flash(f"Not sent yet, it will be tried again: {e.message}", "error")
        else:
            flash(f"Not sent: {_error_words(e.code, e.message)}", "error")
    else:
        flash(SENT_MESSAGE, "success")
    return redirect(_thread_url(domain, conversation_id, anchor="xsms-reply-form"))


# -- what the pages show -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConversationView:
    """A conversation's state as the thread page shows it, and which buttons it offers."""

    state: str
    words: str
    reason: str | None
    can_take_over: bool
    can_hand_back: bool
    can_reply: bool
    #: Whether the current operator has it.
    yours: bool

    def as_json(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Bubble:
    """One message as a chat bubble."""

    id: int
    #: ``"customer"``, ``"bot"`` or ``"operator"``.
    side: str
    sender: str
    body: str
    #: ``{"url", "content_type", "link"}``: ``link`` is false for a URL that is not http(s).
    media: list[dict[str, t.Any]]
    created_at: str
    time: str
    status: str
    status_words: str
    error: str | None
    settled: bool

    def as_json(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


def bubble(message: Message) -> Bubble:
    """What a chat bubble shows of ``message``."""
    operator = (message.details or {}).get("operator")
    if message.direction == "inbound":
        side = "customer"
    elif isinstance(operator, dict):
        side = "operator"
    else:
        side = "bot"
    created = as_utc(message.created_at)
    media = [
        {
            "url": str(m["url"]),
            "content_type": str(m.get("content_type") or ""),
            # only web addresses become links (never javascript: and the like)
            "link": str(m["url"]).lower().startswith(("https://", "http://")),
        }
        for m in message.media or []
        if isinstance(m, dict) and m.get("url")
    ]
    error = None
    if message.error_code or message.error_message:
        error = _error_words(message.error_code, message.error_message)
    return Bubble(
        id=message.id,
        side=side,
        sender=sender_words(message),
        body=message.body or "",
        media=media,
        created_at=created.isoformat(),
        time=created.strftime("%Y-%m-%d %H:%M:%S UTC"),
        status=message.status,
        status_words=status_words(message.status),
        error=error,
        settled=message.status in SETTLED_STATUSES,
    )


def status_words(status: str) -> str:
    """A stored status in words (Twilio's own, capitalised, when the page knows no better)."""
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def sender_words(message: Message) -> str:
    """Who wrote ``message``: ``Customer``, ``Bot`` or ``<name> (operator)``."""
    if message.direction == "inbound":
        return "Customer"
    operator = (message.details or {}).get("operator")
    if isinstance(operator, dict):
        name = str(operator.get("name") or "Operator")
        # the anonymous "Operator" of a host without an operator_loader says it once
        return name if name == "Operator" else f"{name} (operator)"
    return "Bot"


def state_words(state: str, conversation: Conversation) -> str:
    """A state in words: ``Bot``, ``Needs an agent``, ``Agent: <name>`` or ``Closed``."""
    if state == service.AGENT:
        return f"Agent: {conversation.agent_name or 'an operator'}"
    return STATE_WORDS.get(state, state)


def _view_of(conversation: Conversation, operator: Operator) -> ConversationView:
    state = service.state_of(conversation)
    mine = state == service.AGENT and conversation.agent_id == operator.id
    return ConversationView(
        state=state,
        words=state_words(state, conversation),
        reason=conversation.handoff_reason if state == service.NEEDS_AGENT else None,
        can_take_over=state in (service.BOT, service.NEEDS_AGENT)
        or (state == service.AGENT and not mine),
        can_hand_back=state == service.NEEDS_AGENT or mine,
        can_reply=state != service.CLOSED,
        yours=mine,
    )


def _application_name(names: c.Mapping[str, str], conversation: Conversation) -> str:
    return names.get(conversation.application_id, f"Application {conversation.application_id}")


def _error_words(code: t.Any, message: str | None) -> str:
    code = str(code) if code not in (None, "") else None
    words = ERROR_WORDS.get(code or "")
    if words:
        return f"{words} (error {code})"
    if message and code:
        return f"{message} (error {code})"
    return message or f"Twilio reported error {code}."


def _conversation(domain: Domain, conversation_id: int) -> Conversation:
    try:
        return service.conversation(domain, conversation_id)
    except ConversationNotFound as e:
        abort(404, str(e))


def _thread_url(domain: Domain, conversation_id: int, anchor: str | None = None) -> str:
    return url_for(
        "xsms_conversations.thread",
        domain_id=domain.id,
        conversation_id=conversation_id,
        _anchor=anchor,
    )
