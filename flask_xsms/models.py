"""The extension's tables, all prefixed ``xsms_``.

They live on their own :data:`metadata` and are used through the host's
Flask-SQLAlchemy session, so they sit in the host's database. Create them with
:meth:`flask_xsms.XSMS.create_all` or ``flask xsms create-tables``; hosts that use
Alembic add :data:`metadata` to their ``target_metadata``.
"""
from __future__ import annotations

__all__ = [
    "metadata",
    "Integration",
    "NumberBinding",
    "Conversation",
    "Message",
    "OptOut",
    "WebhookRejection",
    "Lease",
]

import datetime as dt
import secrets
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The metadata of every ``xsms_`` table.
metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

HostId = sa.String(64)


def is_messaging_service_sid(value: str) -> bool:
    """Whether ``value`` (normalised) is a Messaging Service SID rather than a number."""
    return value.startswith("MG")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC; a naive value (SQLite returns them) was stored in UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def new_webhook_id() -> str:
    """An opaque, unguessable id for a domain's webhook URLs (128 random bits)."""
    return secrets.token_hex(16)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {dt.datetime: sa.DateTime(timezone=True)}


class Integration(Base):
    """The Twilio SMS integration of one IA Domain.

    Fields: ``domain_id``, ``account_id``, ``environment`` (copied from the host's
    domain), ``webhook_id`` (the opaque id in the domain's webhook URLs), ``created_at``.
    """

    __tablename__ = "xsms_integration"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[str] = mapped_column(HostId, unique=True)
    account_id: Mapped[str] = mapped_column(HostId)
    environment: Mapped[str] = mapped_column(sa.String(64))
    webhook_id: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_webhook_id)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    bindings: Mapped[list[NumberBinding]] = relationship(
        back_populates="integration", order_by="NumberBinding.position"
    )


class NumberBinding(Base):
    """A Twilio phone number bound to one application of a domain.

    Fields: ``phone_number`` (E.164, or a Messaging Service SID), ``account_id``,
    ``environment``, ``domain_id``, ``application_id``, ``position`` (order on the
    settings page). A number is unique
    per account: the database enforces it with ``uq_xsms_number_binding_account_id_phone_number``.
    """

    __tablename__ = "xsms_number_binding"
    __table_args__ = (sa.UniqueConstraint("account_id", "phone_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("xsms_integration.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str] = mapped_column(HostId)
    environment: Mapped[str] = mapped_column(sa.String(64))
    domain_id: Mapped[str] = mapped_column(HostId)
    application_id: Mapped[str] = mapped_column(HostId)
    #: E.164 number, or a Messaging Service SID (``MG`` + 32 hex digits).
    phone_number: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    integration: Mapped[Integration] = relationship(back_populates="bindings")

    @property
    def is_messaging_service(self) -> bool:
        """Whether this binds a Messaging Service (its SID) rather than a phone number."""
        return is_messaging_service_sid(self.phone_number)

    def __repr__(self) -> str:
        return f"<NumberBinding {self.phone_number} -> application {self.application_id}>"


class Conversation(Base):
    """An SMS conversation between one customer number and one application.

    A conversation stays open while messages keep coming; inactivity closes it.
    """

    __tablename__ = "xsms_conversation"
    __table_args__ = (
        # At most one open conversation per customer of an application.
        sa.Index(
            "ix_xsms_conversation_open",
            "integration_id",
            "application_id",
            "customer_number",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("xsms_integration.id", ondelete="CASCADE")
    )
    application_id: Mapped[str] = mapped_column(HostId)
    # As wide as the message's numbers: Twilio's From/To are not always E.164 (short
    # codes, alphanumeric senders, channel addresses such as "whatsapp:+1…").
    customer_number: Mapped[str] = mapped_column(sa.String(64))
    service_number: Mapped[str] = mapped_column(sa.String(64))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    #: Who answers: ``"bot"``, ``"needs_agent"`` (the chatbot asked for a person) or
    #: ``"agent"`` (an operator took it over); see flask_xsms.conversations.
    handoff: Mapped[str] = mapped_column(sa.String(16), default="bot", server_default="bot")
    #: The operator who took it over (the host's user id and name).
    agent_id: Mapped[str | None] = mapped_column(sa.String(64))
    agent_name: Mapped[str | None] = mapped_column(sa.String(128))
    #: When an operator last acted, or a person was asked for (for XSMS_HANDOFF_TIMEOUT).
    handoff_at: Mapped[dt.datetime | None]
    #: Why the chatbot asked for a person.
    handoff_reason: Mapped[str | None] = mapped_column(sa.Text)


class Message(Base):
    """One inbound or outbound SMS/MMS.

    Inbound messages are stored before any chatbot code runs; ``sid`` (Twilio's
    ``MessageSid``) is unique, which makes a repeated webhook idempotent.
    """

    __tablename__ = "xsms_message"
    __table_args__ = (
        sa.Index("ix_xsms_message_integration_created", "integration_id", "created_at"),
        # A conversation's thread.
        sa.Index("ix_xsms_message_conversation", "conversation_id", "id"),
        # The turns not over yet, for the recovery sweep.
        sa.Index(
            "ix_xsms_message_open_turn",
            "claimed_at",
            sqlite_where=sa.text("status IN ('received', 'processing')"),
            postgresql_where=sa.text("status IN ('received', 'processing')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    direction: Mapped[str] = mapped_column(sa.String(16))  # "inbound" or "outbound"
    integration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("xsms_integration.id", ondelete="SET NULL")
    )
    conversation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("xsms_conversation.id", ondelete="SET NULL")
    )
    application_id: Mapped[str | None] = mapped_column(HostId)
    account_sid: Mapped[str | None] = mapped_column(sa.String(64))
    from_number: Mapped[str] = mapped_column(sa.String(64))
    to_number: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    media: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    num_segments: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(32))
    error_code: Mapped[str | None] = mapped_column(sa.String(32))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    #: For inbound messages: the TwiML answered to Twilio, replayed for a repeated MessageSid.
    response_twiml: Mapped[str | None] = mapped_column(sa.Text)
    #: For replies: the inbound message they answer.
    in_reply_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("xsms_message.id", ondelete="SET NULL")
    )
    #: Twilio's parameters as received (inbound) or extra facts (outbound), without secrets.
    details: Mapped[dict[str, t.Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # The turn of an inbound message (see flask_xsms._inbound.turns).
    #: The runner that holds the turn (a random token), while its chatbot runs.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(32))
    #: When the turn was claimed, last confirmed alive, or handed to a runner.
    claimed_at: Mapped[dt.datetime | None]
    #: How many times a chatbot run started for this message.
    turn_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The bound number or Messaging Service SID that replies sent later go from.
    reply_from: Mapped[str | None] = mapped_column(sa.String(64))
    #: The status-callback URL of those replies, computed in the webhook request.
    reply_callback: Mapped[str | None] = mapped_column(sa.Text)


class Lease(Base):
    """A named lease that one process holds at a time (the turn recovery sweep).

    Fields: ``name``, ``holder`` (a random token of the holder), ``expires_at``.
    """

    __tablename__ = "xsms_lease"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(32))
    expires_at: Mapped[dt.datetime]


class OptOut(Base):
    """Whether a customer opted out of messages from one Twilio number (or service).

    One row per (account, service number, customer number); ``opted_out`` flips with
    STOP-family and START-family keywords, ``OptOutType`` and Twilio error 21610.
    """

    __tablename__ = "xsms_opt_out"
    __table_args__ = (sa.UniqueConstraint("account_id", "service_number", "customer_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(HostId)
    service_number: Mapped[str] = mapped_column(sa.String(64))
    customer_number: Mapped[str] = mapped_column(sa.String(64))
    opted_out: Mapped[bool] = mapped_column(default=True)
    #: What made it so: the keyword, "OptOutType", or "error 21610".
    reason: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookRejection(Base):
    """A webhook request refused with 403, kept so that operators can see why.

    Fields: ``endpoint`` (``sms``, ``fallback`` or ``status``), ``reason``
    (``bad_signature``, ``missing_signature``, ``wrong_account``, ``no_credentials``),
    ``validated_url`` (the URL the signature was checked against), ``matched_url`` (the
    URL that Twilio's signature does match, when one of the likely variants does),
    ``headers`` (only Host and the forwarding headers), ``details``. Never the signature
    or a token.
    """

    __tablename__ = "xsms_webhook_rejection"
    __table_args__ = (
        sa.Index("ix_xsms_webhook_rejection_integration_created", "integration_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("xsms_integration.id", ondelete="CASCADE")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    endpoint: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(32))
    validated_url: Mapped[str] = mapped_column(sa.Text)
    matched_url: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    #: What the analysis found: ``base_url`` (the public base URL Twilio used).
    details: Mapped[dict[str, t.Any]] = mapped_column(sa.JSON, default=dict)
