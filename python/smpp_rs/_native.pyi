"""Type stubs of the Rust extension (see smpp_rs/__init__.py for the package)."""

from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

class Event:
    """What came from the SMSC; ``kind`` is ``"report"``, ``"receipt"``, ``"progress"``,
    ``"unmatched"``, ``"mo"``, ``"incomplete"`` or ``"pdu"``."""

    kind: str
    reference: Optional[str]
    outcome: Optional[str]
    state: Optional[str]
    state_raw: Optional[str]
    error: Optional[str]
    message_id: Optional[str]
    message_ids: Optional[List[str]]
    segments: Optional[int]
    segment_states: Optional[List[str]]
    matched: Optional[str]
    text: Optional[str]
    source: Optional[str]
    destination: Optional[str]
    pdu: Optional[Dict[str, Any]]

class Client:
    """An SMPP client bound to one SMSC."""

    def __init__(
        self,
        addr: str,
        system_id: str,
        password: str,
        bind: str = "trx",
        window: int = 64,
        *,
        system_type: Optional[str] = None,
        timeout: float = 10.0,
        enquire_link: Optional[float] = 30.0,
        reconnect: bool = False,
        store: Optional[str] = None,
        account: Optional[str] = None,
        tls: bool = False,
        ca: Optional[str] = None,
        server_name: Optional[str] = None,
        reassembly: bool = True,
        report_timeout: Optional[float] = None,
        max_rate: Optional[float] = None,
        track: bool = True,
        pin_cert: Union[str, List[str], None] = None,
        pin_sha256: Union[str, List[str], None] = None,
        allow_expired: bool = False,
        insecure: bool = False,
        client_cert: Optional[str] = None,
        client_key: Optional[str] = None,
        max_unread: int = 65536,
    ) -> None: ...
    def send_text(
        self,
        source: str,
        destination: str,
        text: str,
        reference: Optional[str] = None,
        registered_delivery: Union[bool, int, None] = None,
        **fields: Any,
    ) -> List[str]: ...
    def send_many(
        self, messages: Iterable[Mapping[str, Any]]
    ) -> List[Union[Dict[str, Any], BaseException]]: ...
    def next_event(self, timeout: Optional[float] = None) -> Optional[Event]: ...
    def stats(self) -> Dict[str, Any]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Client": ...
    def __exit__(self, *args: Any) -> bool: ...

class Smsc:
    """A test SMSC in this process."""

    def __init__(
        self,
        users: Optional[Mapping[str, str]] = None,
        receipt_delay: float = 0.0,
        *,
        address: str = "127.0.0.1:0",
        receipt_state: str = "DELIVRD",
        receipt_before_response: bool = False,
        first_id: int = 1,
        max_submits_per_second: Optional[int] = None,
        mo_split: str = "udh",
    ) -> None: ...
    @property
    def address(self) -> str: ...
    def inject_mo(
        self, source: str, destination: str, text: str, system_id: Optional[str] = None
    ) -> None: ...
    def stats(self) -> Dict[str, int]: ...
    def stop(self) -> None: ...
    def __enter__(self) -> "Smsc": ...
    def __exit__(self, *args: Any) -> bool: ...

def decode(data: bytes) -> Dict[str, Any]: ...
def encode(pdu: Mapping[str, Any]) -> bytes: ...
