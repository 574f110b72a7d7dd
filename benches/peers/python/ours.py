"""Load generator for smpp_rs (this repository's Python package), run by smpp-peers-bench:

    python3 ours.py ADDR WINDOW MAX SECS WARMUP

Binds as a transmitter with a window of WINDOW, tracking off (as in smpplib's loop, a
send is done at its response), and sends with `send_many` (the window kept full on the
Rust side; the GIL let go while it runs): WARMUP untimed submits, then batches
until MAX were sent or SECS passed. Prints one JSON line like load.py:
    {"completed":N,"elapsed_s":S,"p50_us":U,"p99_us":U}  or  {"error":"..."}
Latencies are per batch divided by its size (send_many reports no per-message times), so
p50/p99 here are mean times per submit of the batches, not round trips.
"""

import json
import sys
import time

import smpp_rs

TEXT = ("abcdefghijklmnopqrstuvwxyz" * 3)[:76]
BATCH = 20_000


def main():
    addr, window, max_count, secs, warmup = sys.argv[1:6]
    window, max_count, warmup = int(window), int(max_count), int(warmup)
    limit = float(secs)
    # No tracking: like smpplib's loop, a send is done at its response (and no report
    # per message waits to be read).
    client = smpp_rs.Client(
        addr, "bench", "pw", bind="tx", window=window, enquire_link=None, timeout=30, track=False
    )
    message = {
        "source": "MyBrand",
        "destination": "447700900123",
        "text": TEXT,
        "registered_delivery": 0,
        "source_ton": 5,
        "source_npi": 0,
        "dest_ton": 1,
        "dest_npi": 1,
    }

    def batch(n):
        results = client.send_many([message] * n)
        bad = next((r for r in results if isinstance(r, BaseException)), None)
        if bad is not None:
            raise bad
        return len(results)

    if warmup:
        batch(warmup)
    per_submit = []
    done = 0
    start = time.perf_counter()
    while done < max_count and time.perf_counter() - start < limit:
        n = min(BATCH, max_count - done)
        t0 = time.perf_counter()
        done += batch(n)
        per_submit.append((time.perf_counter() - t0) / n * 1e6)
    elapsed = time.perf_counter() - start
    client.close()
    per_submit.sort()

    def pct(p):
        return per_submit[min(len(per_submit) - 1, int(len(per_submit) * p))] if per_submit else 0.0

    print(json.dumps({"completed": done, "elapsed_s": elapsed, "p50_us": pct(0.5), "p99_us": pct(0.99)}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one JSON line either way
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
