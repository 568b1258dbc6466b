"""The statuses a stored message goes through, in one place.

Inbound messages (a customer's message and its *turn*: the chatbot run that answers it):

* :data:`RECEIVED`: stored; the turn waits for a runner (a chatbot thread, a Celery
  worker, or the recovery sweep).
* :data:`PROCESSING`: a runner has claimed the turn and its chatbot is running.
* :data:`HANDLED`: the chatbot answered (maybe with no reply); the replies are stored.
* :data:`FAILED`: the chatbot raised, or never finished in
  :data:`XSMS_CHATBOT_MAX_ATTEMPTS` runs; the customer got :data:`XSMS_APOLOGY_MESSAGE`.
* :data:`UNROUTED`: no binding of the domain knows the number; no turn.
* :data:`FALLBACK`: only the Fallback URL received it, before turns existed.

Outbound messages: :data:`PENDING` (in the outbox), :data:`SENDING` (claimed by one
worker, the request to Twilio is under way), then Twilio's own ``MessageStatus`` values
(``queued``, ``sent``, ``delivered``…) or :data:`FAILED`; replies answered as TwiML are
:data:`REPLIED`.
"""
from __future__ import annotations

__all__ = [
    "RECEIVED",
    "PROCESSING",
    "HANDLED",
    "FAILED",
    "UNROUTED",
    "FALLBACK",
    "PENDING",
    "SENDING",
    "REPLIED",
]

#: Inbound: stored, the turn waits for a runner.
RECEIVED = "received"
#: Inbound: a runner's chatbot is answering it.
PROCESSING = "processing"
#: Inbound: answered (maybe with no reply).
HANDLED = "handled"
#: Inbound: the chatbot raised or never finished; outbound: Twilio refused it for good.
FAILED = "failed"
#: Inbound: sent to a number that no binding of the domain knows.
UNROUTED = "unrouted"
#: Inbound: kept by the Fallback URL only (messages stored before turns existed).
FALLBACK = "fallback"

#: Outbound: in the outbox, waiting to be sent.
PENDING = "pending"
#: Outbound: claimed by one worker; the request to Twilio is under way.
SENDING = "sending"
#: Outbound: a reply answered as TwiML to the inbound message.
REPLIED = "replied"

#: Inbound statuses of a turn that is not over.
OPEN_TURN = (RECEIVED, PROCESSING)
