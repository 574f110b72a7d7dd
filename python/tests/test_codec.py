"""decode and encode: the JSON shape of `smpp decode`, both ways, with errors that name
what is wrong."""

import pytest

import smpp_rs

SUBMIT = {
    "command": "submit_sm",
    "sequence_number": 42,
    "service_type": "",
    "source_addr_ton": 5,
    "source_addr_npi": 0,
    "source_addr": "MyBrand",
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "destination_addr": "447700900123",
    "esm_class": 0,
    "protocol_id": 0,
    "priority_flag": 0,
    "schedule_delivery_time": "",
    "validity_period": "",
    "registered_delivery": 1,
    "replace_if_present_flag": 0,
    "data_coding": 0,
    "sm_default_msg_id": 0,
    "short_message_text": "Hello",
}


def test_encode_then_decode_gives_the_fields_back():
    octets = smpp_rs.encode(SUBMIT)
    assert int.from_bytes(octets[:4], "big") == len(octets)
    d = smpp_rs.decode(octets)
    assert d["command"] == "submit_sm" and d["sequence_number"] == 42
    assert d["destination_addr"] == "447700900123"
    assert d["short_message_text"] == "Hello"
    assert d["source_addr_ton"] == "ALPHANUMERIC"
    # What decode gives encodes to the same octets.
    assert smpp_rs.encode(d) == octets


def test_a_receipt_is_parsed():
    receipt = {
        "command": "deliver_sm",
        "sequence_number": 1,
        "service_type": "",
        "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "447700900123",
        "dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": "MyBrand",
        "esm_class": 4, "protocol_id": 0, "priority_flag": 0,
        "schedule_delivery_time": "", "validity_period": "", "registered_delivery": 0,
        "replace_if_present_flag": 0, "data_coding": 0, "sm_default_msg_id": 0,
        "short_message_text": "id:0A sub:001 dlvrd:001 submit date:2612071200 done date:2612071201 stat:DELIVRD err:000 text:hi",
    }
    d = smpp_rs.decode(smpp_rs.encode(receipt))
    assert d["receipt"]["id"] == "0A" and d["receipt"]["stat"] == "DELIVRD"


def test_bad_octets_and_bad_dicts_are_invalid_pdu_errors():
    with pytest.raises(smpp_rs.InvalidPdu):
        smpp_rs.decode(b"\x00\x00\x00\x10\x00")
    with pytest.raises(smpp_rs.InvalidPdu):
        smpp_rs.decode(smpp_rs.encode({"command": "enquire_link", "sequence_number": 1}) + b"\x00")
    with pytest.raises(smpp_rs.InvalidPdu) as e:
        smpp_rs.encode({**SUBMIT, "destination_adr": "typo"})
    assert e.value.field == "destination_adr"
    assert isinstance(e.value, ValueError)
    with pytest.raises(smpp_rs.InvalidPdu) as e:
        smpp_rs.encode({"command": "no_such_command", "sequence_number": 1})
    assert e.value.field == "command"
