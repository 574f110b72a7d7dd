"""Tracking through a store: a sender that closes before the receipt and a later receiver
that reports the message with the sender's reference, through a real SQLite file."""

import smpp_rs
from conftest import events


def test_a_later_client_reports_a_message_through_sqlite(tmp_path):
    url = f"sqlite:{tmp_path / 'track.db'}"
    with smpp_rs.Smsc(users={"esme": "secret"}, receipt_delay=0.5) as smsc:
        with smpp_rs.Client(smsc.address, "esme", "secret", bind="tx", store=url) as tx:
            tx.send_text("MyBrand", "447700900123", "kept", reference="S1", registered_delivery=True)
            assert tx.stats()["store"]["written"] >= 2
        with smpp_rs.Client(smsc.address, "esme", "secret", bind="rx", store=url) as rx:
            (r,) = events(rx, 1, kinds={"report"})
            assert (r.reference, r.outcome) == ("S1", "delivered")


def test_a_store_that_cannot_be_opened_is_a_store_error(tmp_path):
    import pytest

    with smpp_rs.Smsc() as smsc:
        with pytest.raises(smpp_rs.StoreError):
            smpp_rs.Client(smsc.address, "esme", "pw", store=f"sqlite:{tmp_path}/no/such/dir/t.db")
