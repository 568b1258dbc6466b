"""The JSON API of conversations, for a host's own agent desk: list, read a thread,
take over, reply, hand back.

The extension adds the routes to the ``xsms_api`` blueprint (:mod:`flask_xsms._api`), so
they follow its rules: the domain's permission callback, JSON errors ``{"errors": [{"message": …}]}``,
and Flask-WTF's CSRF token in ``X-CSRFToken`` on writes that carry cookies. The acting
operator is the host's :meth:`~flask_xsms.XSMS.operator_loader`.
"""
from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from . import conversations
from .errors import ConversationTaken
from .errors import InvalidMessage
from .errors import NotTakenOver
from .errors import NumberNotBound
from .errors import SendError
from .errors import NumberError
from ._message_log import number_filter
from .models import as_utc
from .models import Conversation
from .models import Message
from ._state import get_state
from ._web import error_item
from ._web import json_errors

#: The largest conversation id a route takes (the column is a 32-bit integer).
_MAX_ID = 2**31 - 1
_CONVERSATION = f"/api/domains/<domain_id>/conversations/<int(max={_MAX_ID}):conversation_id>"


def add_conversation_routes(bp: Blueprint) -> None:
    """Add the conversation routes to the API blueprint."""
    bp.add_url_rule("/api/domains/<domain_id>/conversations", view_func=list_conversations)
    bp.add_url_rule(_CONVERSATION, view_func=read_conversation)
    bp.add_url_rule(_CONVERSATION + "/take-over", view_func=take_over, methods=["POST"])
    bp.add_url_rule(_CONVERSATION + "/hand-back", view_func=hand_back, methods=["POST"])
    bp.add_url_rule(_CONVERSATION + "/reply", view_func=reply, methods=["POST"])


def list_conversations(domain_id: str) -> Response | tuple[Response, int]:
    """``?page=&per_page=&number=&state=``: a page of conversations, newest activity first."""
    domain = get_state().manageable_domain(domain_id)
    state = request.args.get("state", "")
    if state and state not in conversations.STATES:
        return _error(f"state must be one of {', '.join(conversations.STATES)}.", 400)
    try:
        number = number_filter(request.args.get("number"))
    except NumberError as e:
        return _error(str(e), 400)
    page = request.args.get("page", "1")
    if not _whole(page) or not 1 <= int(page) <= _MAX_ID:
        return _error("page must be a whole number from 1.", 400)
    found = conversations.conversations(domain, page=int(page), number=number, state=state)
    return jsonify(
        conversations=[
            {**conversation_json(s.conversation, s.state),
             "last_message": message_json(s.last_message) if s.last_message else None}
            for s in found.items
        ],
        page=found.page,
        pages=found.pages,
        total=found.total,
    )


def read_conversation(domain_id: str, conversation_id: int) -> Response | tuple[Response, int]:
    """The conversation and its messages, oldest first (``?after=<id>``: only newer ones)."""
    domain = get_state().manageable_domain(domain_id)
    after = request.args.get("after", "0")
    if not _whole(after) or int(after) > _MAX_ID:
        return _error("after must be a message id.", 400)
    try:
        found = conversations.conversation(domain, conversation_id)
        messages = conversations.thread(domain, conversation_id, after=int(after))
    except conversations.ConversationNotFound as e:
        return _error(str(e), 404)
    return jsonify(
        conversation=conversation_json(found, conversations.state_of(found)),
        messages=[message_json(m) for m in messages],
    )


def take_over(domain_id: str, conversation_id: int) -> Response | tuple[Response, int]:
    """The current operator takes the conversation over; 409 names who has it."""
    return _act(domain_id, conversation_id, conversations.take_over)


def hand_back(domain_id: str, conversation_id: int) -> Response | tuple[Response, int]:
    """The conversation goes back to its chatbot; 409 when another operator has it."""
    return _act(domain_id, conversation_id, conversations.hand_back)


def reply(domain_id: str, conversation_id: int) -> Response | tuple[Response, int]:
    """``{"body": "…"}``: the operator's reply, sent through the outbox (201)."""
    state = get_state()
    domain = state.manageable_domain(domain_id)
    if not request.is_json:
        return _error("Send the reply as JSON: Content-Type: application/json.", 415)
    body = request.get_json(silent=True)
    text = body.get("body") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return _error('The body must be a JSON object such as {"body": "Hello"}.', 400)
    try:
        sent = conversations.reply(domain, conversation_id, state.operator(), text)
    except conversations.ConversationNotFound as e:
        return _error(str(e), 404)
    except (ConversationTaken, NotTakenOver) as e:
        return _error(str(e), 409)
    except (InvalidMessage, NumberError, NumberNotBound) as e:
        # nothing stored: e.g. outside WhatsApp's 24-hour window, or the number unbound
        return _error(str(e), 422)
    except SendError as e:
        # stored with the error, like every outbound message
        stored = [message_json(e.sent_message)] if e.sent_message is not None else []
        return jsonify(errors=[error_item(e.message)], messages=stored), 422
    return jsonify(messages=[message_json(m) for m in sent]), 201


def conversation_json(conversation: Conversation, state: str) -> dict[str, t.Any]:
    """A conversation as the API and the pages' polling show it."""
    return {
        "id": conversation.id,
        "customer": conversation.customer_number,
        "number": conversation.service_number,
        "application_id": conversation.application_id,
        "state": state,
        "agent": conversation.agent_name if state == conversations.AGENT else None,
        "handoff_reason": conversation.handoff_reason,
        "started_at": as_utc(conversation.started_at).isoformat(),
        "last_message_at": as_utc(conversation.last_message_at).isoformat(),
    }


def message_json(message: Message) -> dict[str, t.Any]:
    """A message of a thread as the API and the pages' polling show it."""
    operator = (message.details or {}).get("operator") if message.direction == "outbound" else None
    return {
        "id": message.id,
        "direction": message.direction,
        "author": "customer" if message.direction == "inbound" else "operator" if operator else "bot",
        "operator": operator.get("name") if isinstance(operator, dict) else None,
        "body": message.body,
        "media": [m.get("url", "") for m in message.media or []],
        "status": message.status,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "created_at": as_utc(message.created_at).isoformat(),
    }


def _act(
    domain_id: str, conversation_id: int, action: t.Callable[..., Conversation]
) -> Response | tuple[Response, int]:
    state = get_state()
    domain = state.manageable_domain(domain_id)
    try:
        found = action(domain, conversation_id, state.operator())
    except conversations.ConversationNotFound as e:
        return _error(str(e), 404)
    except ConversationTaken as e:
        return _error(str(e), 409)
    return jsonify(conversation=conversation_json(found, conversations.state_of(found)))


def _whole(text: str) -> bool:
    """Whether ``text`` is a whole number short enough to read (ids are 32-bit)."""
    return text.isascii() and text.isdigit() and len(text) <= 10


def _error(text: str, status: int) -> tuple[Response, int]:
    return json_errors([error_item(text)], status)
