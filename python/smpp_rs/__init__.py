"""SMPP for Python on a Rust core.

``Client`` binds to an SMSC and sends texts (split when long) with a window of requests in
flight, follows every message to one final report matched to your reference, and hands
you reassembled incoming messages; ``Smsc`` is a test SMSC in the same process;
``decode`` and ``encode`` are the PDU codec. See docs/python.md.
"""

from ._errors import (
    BindError,
    ConfigError,
    ConnectionError,
    InvalidMessage,
    InvalidPdu,
    SmppError,
    StoreError,
    SubmitError,
    TimeoutError,
)
from ._native import Client, Event, Smsc, decode, encode

__all__ = [
    "BindError",
    "Client",
    "ConfigError",
    "ConnectionError",
    "Event",
    "InvalidMessage",
    "InvalidPdu",
    "Smsc",
    "SmppError",
    "StoreError",
    "SubmitError",
    "TimeoutError",
    "decode",
    "encode",
]
