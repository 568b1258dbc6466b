"""flask-xsms: X-Platform's Twilio SMS integration as a Flask extension."""
from __future__ import annotations

from . import signals
from .errors import AuthenticationFailed
from .errors import BindingError
from .errors import ConversationTaken
from .errors import CredentialsMissing
from .errors import DomainNotFound
from .errors import InvalidMessage
from .errors import InvalidNumber
from .errors import InvalidWebhookRequest
from .errors import MediaCredentialsMissing
from .errors import MediaError
from .errors import NumberError
from .errors import NotTakenOver
from .errors import NumberNotBound
from .errors import OptedOut
from .errors import PermissionDenied
from .errors import RateLimited
from .errors import RowError
from .errors import SendError
from .errors import SimulationError
from .errors import TwilioSetupError
from .errors import TwilioUnavailable
from .errors import WhatsAppWindowClosed
from .errors import XSMSError
from ._extension import XSMS
from ._values import Application
from ._values import BINDABLE_CHANNEL_TYPES
from ._values import Credentials
from ._values import Domain
from ._values import Handoff
from ._values import InboundMessage
from ._values import Location
from ._values import Media
from ._values import Operator
from ._values import Pair
from ._values import Reply

__all__ = [
    "Application",
    "AuthenticationFailed",
    "BINDABLE_CHANNEL_TYPES",
    "BindingError",
    "ConversationTaken",
    "Credentials",
    "CredentialsMissing",
    "Domain",
    "DomainNotFound",
    "Handoff",
    "InboundMessage",
    "InvalidMessage",
    "InvalidNumber",
    "InvalidWebhookRequest",
    "Location",
    "Media",
    "MediaCredentialsMissing",
    "MediaError",
    "NotTakenOver",
    "NumberError",
    "NumberNotBound",
    "OptedOut",
    "Operator",
    "Pair",
    "PermissionDenied",
    "RateLimited",
    "Reply",
    "RowError",
    "SendError",
    "SimulationError",
    "signals",
    "TwilioSetupError",
    "TwilioUnavailable",
    "WhatsAppWindowClosed",
    "XSMS",
    "XSMSError",
]
