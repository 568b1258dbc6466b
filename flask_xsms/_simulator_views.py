"""The SMS simulator's page and its small JSON endpoints, for SMS numbers and WhatsApp
senders alike.

Served only while the simulator is on (``app.debug`` or :data:`XSMS_SIMULATOR`); 404
otherwise. Each endpoint asks the host's permission callback about the domain of the
chosen number. The POST endpoints take a form with a CSRF token (Flask-WTF), whether
or not the host uses ``CSRFProtect``.
"""
from __future__ import annotations

import functools
import typing as t

from flask import abort
from flask import Blueprint
from flask import jsonify
from flask import render_template
from flask import request
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import IntegerField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from . import _channels as channels
from . import _simulator as simulator
from ._forms import BrowserForm
from .errors import NumberError
from .errors import PermissionDenied
from .errors import SimulationError
from ._state import get_state
from ._web import json_error
from ._inbound import REPLIED
from .models import Integration
from .models import Message
from .models import NumberBinding
from ._values import Domain

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

#: The largest message id (the column is a 32-bit integer).
_MAX_ID = 2**31 - 1

#: The customer number the page suggests.
DEFAULT_CUSTOMER = "+14155550123"


class SimulatorMessageForm(BrowserForm):
    """A customer's message: to which bound number of which domain, on which channel, from
    whom, what (text, media URLs or both)."""

    domain_id = StringField("IA Domain", validators=[DataRequired()])
    number = StringField("Twilio number", validators=[DataRequired()])
    #: ``"sms"`` or ``"whatsapp"``; it must be the number's own. Empty: the number's.
    channel = StringField("Channel", validators=[Optional()])
    customer = StringField("Customer number", validators=[DataRequired()])
    #: WhatsApp only: the customer's profile name (``ProfileName``).
    profile_name = StringField("Profile name", validators=[Optional(), Length(max=200)])
    body = TextAreaField("Message")
    #: Public http(s) URLs separated by spaces or lines, at most ten.
    media_urls = TextAreaField("Media URLs")


class SimulatorStatusForm(BrowserForm):
    """A delivery status to report for a sent message."""

    message_id = IntegerField(
        "Message", validators=[InputRequired(), NumberRange(min=1, max=_MAX_ID)]
    )
    status = StringField("Delivery status", validators=[DataRequired()])


def create_simulator_blueprint() -> Blueprint:
    """Build the ``xsms_simulator`` blueprint."""
    bp = Blueprint("xsms_simulator", __name__)
    bp.add_url_rule("/simulator", view_func=page)
    bp.add_url_rule("/simulator/messages", view_func=send_message, methods=["POST"])
    bp.add_url_rule("/simulator/fallback", view_func=send_fallback, methods=["POST"])
    bp.add_url_rule("/simulator/status", view_func=report_status, methods=["POST"])
    bp.add_url_rule("/simulator/conversation", view_func=conversation)
    bp.before_request(_only_when_enabled)
    bp.add_app_template_global(simulator.enabled, "xsms_simulator_enabled")
    return bp


def _only_when_enabled() -> None:
    if not simulator.enabled():
        abort(404)


def _json_errors(view: F) -> F:
    """Answer HTTP errors of ``view`` as ``{"error": ...}`` JSON."""

    @functools.wraps(view)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return view(*args, **kwargs)
        except HTTPException as e:
            return _error(e.description or e.name, e.code or 500)

    return t.cast(F, wrapper)


def page() -> str:
    """The simulator: pick a bound number, text it as a customer, read the answers."""
    numbers = simulator.available_numbers()
    wanted_domain = request.args.get("domain")
    if wanted_domain is not None:
        get_state().manageable_domain(wanted_domain)
    elif not numbers and simulator.any_bound_number():
        raise PermissionDenied()
    wanted_number = request.args.get("number")
    selected = next(
        (
            n
            for n in numbers
            if (wanted_domain is None or n.domain.id == wanted_domain)
            and (wanted_number is None or n.phone_number == wanted_number)
        ),
        numbers[0] if numbers else None,
    )
    return render_template(
        "xsms/simulator.html",
        numbers=numbers,
        selected=selected,
        # Which channels have numbers: the other choice is disabled.
        channels_bound={n.channel for n in numbers},
        form=SimulatorMessageForm(formdata=None),
        customer=request.args.get("customer") or DEFAULT_CUSTOMER,
        statuses=simulator.DELIVERY_STATUSES,
        max_media=simulator.MAX_MEDIA,
    )


@_json_errors
def send_message() -> Response | tuple[Response, int]:
    """Post the customer's message to the Request URL; answer the TwiML replies."""
    return _simulate(fallback=False)


@_json_errors
def send_fallback() -> Response | tuple[Response, int]:
    """Post the customer's message to the Fallback URL; answer the TwiML replies."""
    return _simulate(fallback=True)


def _simulate(*, fallback: bool) -> Response | tuple[Response, int]:
    form = SimulatorMessageForm()
    if not form.validate_on_submit():
        return _form_errors(form)
    binding = _binding(form.domain_id.data, form.number.data)
    body = form.body.data or ""
    try:
        if form.channel.data:
            simulator.check_channel(binding.phone_number, form.channel.data)
    except SimulationError as e:
        return _error(str(e), 400, field="channel")
    try:
        media_urls = simulator.check_media_urls((form.media_urls.data or "").split())
    except SimulationError as e:
        return _error(str(e), 400, field="media_urls")
    if not body and not media_urls:
        return _error("Type a message, or give a media URL.", 400, field="body")
    profile_name = None
    # The page keeps a profile name typed for WhatsApp when an SMS number is chosen.
    if channels.is_whatsapp(binding.phone_number):
        profile_name = (form.profile_name.data or "").strip() or None
    simulate = simulator.simulate_fallback if fallback else simulator.simulate_inbound
    try:
        result = simulate(
            binding,
            from_=form.customer.data,
            body=body,
            media_urls=media_urls,
            profile_name=profile_name,
        )
    except NumberError as e:
        return _error(str(e), 400, field="customer")
    except SimulationError as e:
        return _error(str(e), 400)
    message = get_state().session.get(Message, result.message_id) if result.message_id else None
    notes = simulator.conversation_notes([message]) if message is not None else {}
    return jsonify(
        url=result.url,
        status_code=result.status_code,
        ok=result.ok,
        twiml=result.body,
        replies=[{"body": r.body, "media": list(r.media)} for r in result.replies],
        message=_message_json(message, notes) if message is not None else None,
    )


@_json_errors
def report_status() -> Response | tuple[Response, int]:
    """Fire the status callback of a sent message with the chosen delivery status."""
    form = SimulatorStatusForm()
    if not form.validate_on_submit():
        return _form_errors(form)
    session = get_state().session
    message = session.get(Message, form.message_id.data)
    integration = (
        session.get(Integration, message.integration_id)
        if message is not None and message.integration_id is not None
        else None
    )
    if message is None or integration is None:
        abort(404, "There is no such message.")
    get_state().manageable_domain(integration.domain_id)
    message_id = message.id
    try:
        result = simulator.simulate_status(message, form.status.data)
    except SimulationError as e:
        return _error(str(e), 400)
    message = session.get(Message, message_id)
    assert message is not None
    return jsonify(
        url=result.url,
        status_code=result.status_code,
        ok=result.ok,
        message=_message_json(message),
    )


@_json_errors
def conversation() -> Response:
    """The stored messages of a conversation with an id above ``after``, oldest first."""
    domain_id = request.args.get("domain_id", "")
    binding = _binding(domain_id, request.args.get("number", ""))
    customer = request.args.get("customer", "")
    after = request.args.get("after", 0, type=int) or 0
    if not 0 <= after <= _MAX_ID:
        abort(400, "after must be a message id.")
    domain = get_state().manageable_domain(binding.domain_id)
    try:
        # On WhatsApp the customer's address is whatsapp:+…, typed so or not.
        customer = simulator.customer_address(binding.phone_number, customer)
    except NumberError as e:
        abort(400, str(e))
    messages = simulator.conversation(domain, binding.phone_number, customer, after=after)
    notes = simulator.conversation_notes(messages)
    return jsonify(messages=[_message_json(m, notes) for m in messages])


def _binding(domain_id: str | None, number: str | None) -> NumberBinding:
    """The binding of ``number`` in a domain the current user may manage (else 403/404)."""
    domain: Domain = get_state().manageable_domain(domain_id or "")
    try:
        return simulator.find_number(number or "", domain_id=domain.id)
    except (NumberError, SimulationError):
        abort(404, "This number is not bound in this IA Domain.")


def _message_json(message: Message, notes: t.Mapping[int, str] | None = None) -> dict[str, t.Any]:
    customer = message.from_number if message.direction == "inbound" else message.to_number
    details = message.details if isinstance(message.details, dict) else {}
    return {
        "id": message.id,
        "direction": message.direction,
        "channel": channels.channel_of(customer or ""),
        "body": message.body,
        "media": [m.get("url", "") for m in message.media or []],
        # WhatsApp: the name the customer goes by there (their messages only).
        "profile_name": details.get("ProfileName") if message.direction == "inbound" else None,
        "status": message.status,
        "sid": message.sid,
        "in_reply_to_id": message.in_reply_to_id,
        # Replies answered as TwiML are stored "replied"; others went through the REST API.
        "via": None
        if message.direction == "inbound"
        else ("twiml" if message.status == REPLIED else "rest"),
        "error": message.error_message,
        "error_code": message.error_code,
        # What happened to a customer's STOP, START or HELP, or to a message after STOP.
        "note": (notes or {}).get(message.id),
    }


def _form_errors(form: FlaskForm) -> tuple[Response, int]:
    errors = {name: list(messages) for name, messages in form.errors.items()}
    if "csrf_token" in errors:
        text = "This page has expired: reload it and try again."
    else:
        text = "; ".join(f"{form[name].label.text}: {' '.join(m)}" for name, m in errors.items())
    return json_error(text, 400, errors=errors)


def _error(text: str, status: int, *, field: str | None = None) -> tuple[Response, int]:
    return json_error(text, status, field=field)
