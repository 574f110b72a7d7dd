"""Scenario 2 peer: a python-smpplib ESME against our `smpp smsc` (see docs/interop.md).

    python3 esme.py --port PORT --out FILE

Binds as transceiver (system_id `pyesme`, password `pysecret`: smpplib truncates passwords
to 8 characters), submits GSM and UCS-2 texts with registered_delivery, answers the
delivery receipts that come back (smpplib sends the deliver_sm_resp), sends enquire_link and
unbinds. Writes one JSON object to FILE: every PDU it sent (hex and its fields) and every
PDU it received (fields as smpplib parsed them). Bounded: socket timeout 5 s, 20 s overall.
"""

import binascii
import json
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.smpp

SYSTEM_ID = "pyesme"
PASSWORD = "pysecret"
DEADLINE_S = 20.0

# (text, data_coding)
MESSAGES = [
    ("Hello from smpplib @ $", 0),
    ("Привет из Python 🐍", 8),
    ("plain ascii 123", 0),
]

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def gsm_unpacked(text):
    """GSM 03.38 septets, one per octet (basic table only: the texts here need no more)."""
    return bytes(GSM_BASIC.index(c) for c in text)


def ucs2(text):
    return text.encode("utf-16-be")


def value(v):
    if isinstance(v, (bytes, bytearray)):
        return {"hex": binascii.hexlify(v).decode()}
    if isinstance(v, str):
        return {"hex": binascii.hexlify(v.encode("latin-1")).decode()}
    return v


def fields(pdu):
    """smpplib's view of a PDU: every parameter it has a value for."""
    out = {}
    for name in getattr(pdu, "params_order", ()):
        v = getattr(pdu, name, None)
        if v is not None:
            out[name] = value(v)
    return {
        "command": pdu.command,
        "command_status": pdu.status,
        "sequence_number": pdu.sequence,
        "fields": out,
    }


def main():
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    port = int(args["--port"])
    out_path = args["--out"]
    started = time.monotonic()
    report = {"sent": [], "received": [], "errors": []}

    client = smpplib.client.Client(
        "127.0.0.1", port, timeout=5, allow_unknown_opt_params=True
    )
    original_send = client.send_pdu

    def send_pdu(p):
        data = p.generate()
        entry = fields(p)
        entry["hex"] = binascii.hexlify(data).decode()
        report["sent"].append(entry)
        return original_send(p)

    client.send_pdu = send_pdu

    def on_received(pdu, **kwargs):
        report["received"].append(fields(pdu))
        return smpplib.consts.SMPP_ESME_ROK

    def on_sent(pdu, **kwargs):
        report["received"].append(fields(pdu))

    client.set_message_received_handler(on_received)
    client.set_message_sent_handler(on_sent)
    try:
        client.connect()
        resp = client.bind_transceiver(system_id=SYSTEM_ID, password=PASSWORD)
        report["received"].append(fields(resp))
        for text, data_coding in MESSAGES:
            octets = ucs2(text) if data_coding == 8 else gsm_unpacked(text)
            client.send_message(
                source_addr_ton=5,
                source_addr_npi=0,
                source_addr="PySender",
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr="447700900777",
                short_message=octets,
                data_coding=data_coding,
                esm_class=0,
                registered_delivery=1,
                user_message_reference=len(report["sent"]),
            )
        want = len(MESSAGES)

        def receipts():
            return [r for r in report["received"] if r["command"] == "deliver_sm"]

        while len(receipts()) < want or sum(
            1 for r in report["received"] if r["command"] == "submit_sm_resp"
        ) < want:
            if time.monotonic() - started > DEADLINE_S:
                report["errors"].append("timed out waiting for receipts")
                break
            client.read_once(auto_send_enquire_link=False)
        client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
        while True:
            p = client.read_pdu()
            report["received"].append(fields(p))
            if p.command == "enquire_link_resp":
                break
        resp = client.unbind()
        report["received"].append(fields(resp))
        client.disconnect()
    except Exception as e:  # the report says what went wrong; the caller fails on it
        report["errors"].append("%s: %s" % (type(e).__name__, e))
    report["messages"] = [{"text": t, "data_coding": dc} for t, dc in MESSAGES]
    with open(out_path, "w") as f:
        json.dump(report, f)
    print(json.dumps({"sent": len(report["sent"]), "received": len(report["received"]),
                      "errors": report["errors"]}))
    return 0 if not report["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
