"""Load generator for python-smpplib 2.2.4, run by smpp-peers-bench:

    python3 load.py ADDR WINDOW MAX SECS WARMUP

smpplib is synchronous: `send_message` writes a submit_sm and returns, `read_once` reads
one PDU and calls the sent handler for a submit_sm_resp. So a window above 1 is a pipeline:
send until WINDOW are outstanding, then read one response and send one more. Binds as a
transmitter, sends WARMUP untimed submits, then runs until MAX were sent or SECS passed,
waits for the rest and prints one JSON line:
    {"completed":N,"elapsed_s":S,"p50_us":U,"p99_us":U}  or  {"error":"..."}
"""

import json
import sys
import time

import smpplib.client
import smpplib.consts

TEXT = (b"abcdefghijklmnopqrstuvwxyz" * 3)[:76]


def main():
    addr, window, max_count, secs, warmup = sys.argv[1:6]
    host, port = addr.rsplit(":", 1)
    window, max_count, warmup = int(window), int(max_count), int(warmup)
    limit_ns = int(float(secs) * 1e9)

    client = smpplib.client.Client(host, int(port), timeout=30, allow_unknown_opt_params=True)
    sent_at = {}
    latencies = []

    def on_sent(pdu, **_kwargs):
        t0 = sent_at.pop(pdu.sequence, None)
        if t0 is None:
            raise RuntimeError("response %d to no request in flight" % pdu.sequence)
        if pdu.status != 0:
            raise RuntimeError("submit_sm answered with status %d" % pdu.status)
        latencies.append(time.perf_counter_ns() - t0)

    client.set_message_sent_handler(on_sent)
    client.connect()
    client.bind_transmitter(system_id="bench", password="pw")

    def phase(count, limit):
        del latencies[:]
        start = time.perf_counter_ns()
        sent = 0
        stopped = False
        while True:
            while not stopped and len(sent_at) < window:
                t0 = time.perf_counter_ns()
                if sent >= count or (limit is not None and t0 - start >= limit):
                    stopped = True
                    break
                pdu = client.send_message(
                    source_addr_ton=5,
                    source_addr_npi=0,
                    source_addr="MyBrand",
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr="447700900123",
                    registered_delivery=0,
                    data_coding=0,
                    short_message=TEXT,
                )
                sent_at[pdu.sequence] = t0
                sent += 1
            if not sent_at:
                break
            client.read_once()
        return time.perf_counter_ns() - start

    phase(warmup, None)
    elapsed = phase(max_count, limit_ns)
    lat = sorted(latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] / 1e3 if lat else 0.0

    result = {
        "completed": len(lat),
        "elapsed_s": elapsed / 1e9,
        "p50_us": pct(0.5),
        "p99_us": pct(0.99),
    }
    try:
        client.unbind()
        client.disconnect()
    except Exception:  # the result is in; a failed unbind does not change it
        pass
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report any failure as the one JSON line the bench reads
        print(json.dumps({"error": "python: %s: %s" % (type(e).__name__, e)}), flush=True)
