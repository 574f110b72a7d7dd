"""The exceptions smpp_rs raises (the Rust side makes instances of these classes)."""

import builtins


class SmppError(Exception):
    """Base of every error this package raises."""


class BindError(SmppError):
    """The SMSC refused the bind; ``status`` is the status name (``ESME_RINVPASWD``...)."""

    status = None


class SubmitError(SmppError):
    """The SMSC answered a request with an error; ``status`` is the status name."""

    status = None


class TimeoutError(SmppError, builtins.TimeoutError):
    """No response came within the response timeout."""


class ConnectionError(SmppError, builtins.ConnectionError):
    """Connecting failed, the connection dropped, or the client is closed."""


class StoreError(SmppError):
    """The store failed. After a send, ``message_ids`` holds what the SMSC accepted: the
    message went out, but its records were not written in time."""

    message_ids = None


class ConfigError(SmppError, ValueError):
    """A setting cannot be used (a CA file that cannot be read, ...)."""


class InvalidMessage(SmppError, ValueError):
    """A message cannot be sent as given (text, address, time, reference in use)."""


class InvalidPdu(SmppError, ValueError):
    """Octets that are not one PDU (``decode``), or a dict that is not one (``encode``;
    ``field`` names the member)."""

    field = None
