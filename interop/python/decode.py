"""Scenario 3 helper: python-smpplib decodes PDUs (one hex line each on stdin).

`decode.py --params` prints the parameter names of each PDU class instead.

Prints one JSON object per line: smpplib's view of the PDU (`command`, `command_status`,
`sequence_number` and `fields`, octets as {"hex": ...}), or {"error": ...} when smpplib
cannot parse it (it has no submit_multi, cancel_sm, replace_sm or broadcast PDUs).
"""

import binascii
import json
import sys

import smpplib.command
import smpplib.smpp

COMMANDS = [
    "bind_transmitter", "bind_transmitter_resp", "bind_receiver", "bind_receiver_resp",
    "bind_transceiver", "bind_transceiver_resp", "data_sm", "data_sm_resp", "generic_nack",
    "submit_sm", "submit_sm_resp", "deliver_sm", "deliver_sm_resp", "query_sm",
    "query_sm_resp", "unbind", "unbind_resp", "enquire_link", "enquire_link_resp",
    "alert_notification",
]


class Sequence:
    """What smpplib's PDU classes ask their client for (a sequence source)."""

    sequence = 0

    def next_sequence(self):
        return 0


def value(v):
    if isinstance(v, (bytes, bytearray)):
        return {"hex": binascii.hexlify(v).decode()}
    if isinstance(v, str):
        return {"hex": binascii.hexlify(v.encode("latin-1")).decode()}
    return v


def main():
    if sys.argv[1:] == ["--params"]:
        # The parameters (mandatory and TLV) each PDU class of smpplib has.
        print(json.dumps({
            name: list(smpplib.command.factory(name, client=Sequence()).params_order)
            for name in COMMANDS
        }))
        return 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            pdu = smpplib.smpp.parse_pdu(
                binascii.unhexlify(line), client=Sequence(), allow_unknown_opt_params=True
            )
            fields = {}
            for name in pdu.params_order:
                v = getattr(pdu, name, None)
                if v is not None:
                    fields[name] = value(v)
            out = {
                "command": pdu.command,
                "command_status": pdu.status,
                "sequence_number": pdu.sequence,
                "fields": fields,
            }
        except Exception as e:  # reported per line; the caller decides what is expected
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
