"""flask-xsms: X-Platform's Twilio SMS integration as a Flask extension."""
from __future__ import annotations

from . import signals
from .errors import BindingError
from .errors import DomainNotFound
from .errors import InvalidWebhookRequest
from .errors import NumberError
from .errors import PermissionDenied
from .errors import RowError
from .errors import XSMSError
from .extension import XSMS
from .types import Application
from .types import BINDABLE_CHANNEL_TYPES
from .types import Credentials
from .types import Domain
from .types import InboundMessage
from .types import Media
from .types import Pair
from .types import Reply

__all__ = [
    "Application",
    "BINDABLE_CHANNEL_TYPES",
    "BindingError",
    "Credentials",
    "Domain",
    "DomainNotFound",
    "InboundMessage",
    "InvalidWebhookRequest",
    "Media",
    "NumberError",
    "Pair",
    "PermissionDenied",
    "Reply",
    "RowError",
    "XSMS",
    "XSMSError",
    "signals",
]
