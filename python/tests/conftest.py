"""The fixtures the tests share: a test SMSC per test (the pattern docs/python.md shows
for testing your own ESME code)."""

import pytest

import smpp_rs


@pytest.fixture
def smsc():
    """A test SMSC with one account, receipts 50 ms after each submit; stopped after the
    test."""
    with smpp_rs.Smsc(users={"esme": "secret"}, receipt_delay=0.05) as s:
        yield s


def events(client, n, timeout=10.0, kinds=None):
    """The next `n` events (of `kinds`, when given), failing after `timeout` seconds."""
    import time

    end = time.monotonic() + timeout
    got = []
    while len(got) < n:
        left = end - time.monotonic()
        assert left > 0, f"only {len(got)} of {n} events: {got}"
        e = client.next_event(timeout=left)
        if e is not None and (kinds is None or e.kind in kinds):
            got.append(e)
    return got
