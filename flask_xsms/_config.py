"""Configuration keys of flask-xsms and their defaults.

This is the one place defaults live. :meth:`flask_xsms.XSMS.init_app` sets each of them
on ``app.config`` with the ``XSMS_`` prefix unless the host has set it already.
"""
from __future__ import annotations

import typing as t

from flask import current_app

PREFIX = "XSMS_"

#: Unprefixed names and default values. Documented in ``docs/config.rst``.
DEFAULTS: dict[str, t.Any] = {
    # Where the extension's pages and webhooks are mounted.
    "URL_PREFIX": "/xsms",
    # Name of the ``flask`` CLI group.
    "CLI_GROUP": "xsms",
    # Twilio credentials used when the host registers no credentials loader.
    "TWILIO_ACCOUNT_SID": None,
    "TWILIO_AUTH_TOKEN": None,
    # Scheme, host and optional path prefix that Twilio uses to reach this app,
    # e.g. "https://sms.example.com". None: built from the request.
    "PUBLIC_BASE_URL": None,
    # Template that the extension's pages extend; it must define the blocks
    # "title" and "content". Set it to the host's own layout to embed the pages.
    "BASE_TEMPLATE": "xsms/layout.html",
    # The settings page asks Twilio's REST API about the saved numbers and offers
    # "Configure in Twilio". False: it says the checks are off and points to the SMS
    # simulator (for credentials Twilio would refuse, e.g. a demo's).
    "TWILIO_CHECKS": True,
    # Seconds to wait for Twilio's REST API (connect and read); never None: a hung
    # connection must not hold a worker forever.
    "TWILIO_TIMEOUT": 10,
    # Base URL of Twilio's REST API, for a local stand-in in tests or development.
    # None: Twilio's real API.
    "TWILIO_API_BASE_URL": None,
    # True: send() sends at once, in the calling process. False: it only stores the
    # message in the outbox and a worker drains it with outbound.send_pending().
    "SEND_IMMEDIATELY": True,
    # Attempts per outbound message before a retryable error (429, 5xx, no connection)
    # marks it failed.
    "SEND_MAX_ATTEMPTS": 5,
    # How stored messages are sent: "process" (in the process that stores them) or
    # "celery" (by the tasks of flask_xsms.celery_tasks.init_celery in Celery workers).
    "SEND_VIA": "process",
    # Seconds before the first retry of a Celery delivery after a retryable error; each
    # retry waits twice as long, with jitter, up to 10 minutes.
    "SEND_RETRY_DELAY": 2.0,
    # Seconds after which a message claimed by a worker and never sent (the worker died)
    # goes back to the outbox for the next flask_xsms.celery_tasks sweep. Longer than
    # TWILIO_TIMEOUT, so a slow send is never taken for a dead one.
    "SEND_CLAIM_TIMEOUT": 300,
    # Check X-Twilio-Signature on every webhook. False is for local development only.
    "VALIDATE_SIGNATURES": True,
    # Largest webhook request body accepted, in bytes; larger ones get 413.
    "MAX_REQUEST_SIZE": 64 * 1024,
    # Seconds the chatbot has to reply inside the webhook (Twilio waits 15 s at most);
    # later replies are sent through the REST API.
    "REPLY_TIMEOUT": 10.0,
    # Where chatbots run: "process" (a bounded pool of threads in each web process) or
    # "celery" (the task xsms.answer of flask_xsms.celery_tasks.init_celery, in Celery
    # workers; the Request URL answers Twilio at once).
    "CHATBOT_VIA": "process",
    # Chatbot threads per process with CHATBOT_VIA "process"; a turn that finds none free
    # waits in the database and is answered through the REST API.
    "CHATBOT_THREADS": 8,
    # Chatbot runs per message before it is given up (the customer gets the apology):
    # a chatbot that kills its process is not called forever.
    "CHATBOT_MAX_ATTEMPTS": 3,
    # Seconds after which a turn whose runner stopped confirming it is alive (the process
    # died) is claimed again. A running chatbot confirms every third of this.
    "TURN_CLAIM_TIMEOUT": 30,
    # Seconds between two recovery sweeps of a process with CHATBOT_VIA "process".
    "TURN_SWEEP_INTERVAL": 10,
    # Seconds of silence after which a conversation that an operator took over (or that
    # waits for one since its chatbot asked for a person) goes back to its chatbot.
    "HANDOFF_TIMEOUT": 900,
    # Seconds of inactivity after which a conversation is closed and a new one opened.
    "CONVERSATION_TIMEOUT": 1800,
    # Answer when a chatbot raised an error instead of replying.
    "APOLOGY_MESSAGE": "Sorry, something went wrong on our side. Please try again in a moment.",
    # Answer of the Fallback URL, when Twilio could not use the Request URL.
    "FALLBACK_MESSAGE": "Sorry, we can't answer right now. Please try again a little later.",
    # Answer to HELP when no chatbot replies.
    "HELP_MESSAGE": (
        "Reply STOP to stop getting messages from this number, START to get them again."
    ),
    # Answer to a STOP-family keyword on WhatsApp, where Twilio neither blocks nor answers.
    "WHATSAPP_OPT_OUT_MESSAGE": (
        "You will get no more messages from us here. Reply START to get them again."
    ),
    # Messages per page on a domain's messages page.
    "MESSAGES_PER_PAGE": 50,
    # Split replies and sent messages so that each fits one SMS segment (160 GSM-7
    # characters, 70 in UCS-2) instead of only under Twilio's 1600-character limit.
    "SPLIT_AT_SEGMENTS": False,
    # Log a "replies_too_long" warning when a chatbot's answer needs more segments.
    "MAX_REPLY_SEGMENTS": 10,
    # Refused webhook requests kept per IA Domain for the settings page and `doctor`.
    "WEBHOOK_REJECTIONS_KEPT": 50,
    # Seconds after which a refused webhook request is forgotten (30 days).
    "WEBHOOK_REJECTIONS_MAX_AGE": 2592000,
    # Serve the SMS simulator page (also on whenever app.debug is true).
    "SIMULATOR": False,
    # Largest inbound media item flask_xsms.media.fetch downloads, in bytes. Twilio's
    # largest media are WhatsApp's and RCS's, 16 MB (MMS: 5 MB).
    "MEDIA_MAX_BYTES": 16 * 1024 * 1024,
    # Seconds flask_xsms.media.fetch waits for each connection and each read, and for
    # the whole download; never None: a stalled download must not hold a chatbot forever.
    "MEDIA_TIMEOUT": 10,
}


def apply_defaults(config: t.MutableMapping[str, t.Any]) -> None:
    """Set every default on ``config`` where the host has not set the key."""
    for key, value in DEFAULTS.items():
        config.setdefault(PREFIX + key, value)


def config_value(key: str) -> t.Any:
    """Return ``XSMS_<key>`` of the current app; a misspelt key raises ``KeyError``."""
    if key not in DEFAULTS:
        raise KeyError(f"{PREFIX}{key} is not a flask-xsms configuration key.")
    return current_app.config[PREFIX + key]
