"""The client against the in-process test SMSC over 127.0.0.1: bind kinds, texts with
receipts reported under their references, long messages and reassembled MO, send_many,
errors as typed exceptions, and the GIL and Ctrl-C while waiting."""

import os
import signal
import socket
import threading
import time

import pytest

import smpp_rs
from conftest import events


def test_bind_kinds(smsc):
    with smpp_rs.Client(smsc.address, "esme", "secret", bind="tx") as tx:
        assert tx.send_text("MyBrand", "447700900123", "hi")
    with smpp_rs.Client(smsc.address, "esme", "secret", bind="rx") as rx:
        # A receiver may not submit: the SMSC (or the session) says so.
        with pytest.raises(smpp_rs.SmppError):
            rx.send_text("MyBrand", "447700900123", "no")
        smsc.inject_mo("447700900123", "12345", "to the receiver")
        (mo,) = events(rx, 1, kinds={"mo"})
        assert (mo.text, mo.source, mo.destination) == ("to the receiver", "447700900123", "12345")
    with pytest.raises(ValueError):
        smpp_rs.Client(smsc.address, "esme", "secret", bind="sideways")
    assert smsc.stats()["binds"] == 2


def test_a_refused_bind_is_a_bind_error_with_the_status(smsc):
    with pytest.raises(smpp_rs.BindError) as e:
        smpp_rs.Client(smsc.address, "esme", "wrong")
    assert e.value.status == "ESME_RINVPASWD"


def test_receipts_come_back_as_one_report_per_reference(smsc):
    with smpp_rs.Client(smsc.address, "esme", "secret") as c:
        for n in range(5):
            ids = c.send_text("MyBrand", "447700900123", f"text {n}", reference=f"ref-{n}", registered_delivery=True)
            assert len(ids) == 1
        reports = events(c, 5, kinds={"report"})
        assert sorted(r.reference for r in reports) == [f"ref-{n}" for n in range(5)]
        assert all(r.outcome == "delivered" and r.state == "DELIVRD" for r in reports)
        receipt = c.stats()["tracker"]
        assert receipt["delivered"] == 5 and receipt["tracked"] == 0


def test_a_failed_delivery_is_reported_failed_with_its_state():
    with smpp_rs.Smsc(users={"esme": "secret"}, receipt_delay=0.02, receipt_state="UNDELIV") as smsc:
        with smpp_rs.Client(smsc.address, "esme", "secret") as c:
            c.send_text("MyBrand", "447700900123", "doomed", reference="bad", registered_delivery=True)
            (r,) = events(c, 1, kinds={"report"})
            assert (r.reference, r.outcome, r.state) == ("bad", "failed", "UNDELIV")


def test_receipts_before_responses_still_match():
    with smpp_rs.Smsc(users={"esme": "secret"}, receipt_before_response=True) as smsc:
        with smpp_rs.Client(smsc.address, "esme", "secret") as c:
            c.send_text("MyBrand", "447700900123", "fast smsc", reference="early", registered_delivery=True)
            (r,) = events(c, 1, kinds={"report"})
            assert (r.reference, r.outcome) == ("early", "delivered")


def test_long_messages_out_and_in(smsc):
    text = "A long message. " * 25  # 400 characters: three GSM segments
    with smpp_rs.Client(smsc.address, "esme", "secret") as c:
        ids = c.send_text("MyBrand", "447700900123", text, reference="long", registered_delivery=True)
        assert len(ids) == 3
        (r,) = events(c, 1, kinds={"report"})
        assert (r.segments, r.message_ids, r.outcome) == (3, ids, "delivered")
        smsc.inject_mo("447700900123", "12345", text)
        (mo,) = events(c, 1, kinds={"mo"})
        assert (mo.text, mo.segments) == (text, 3)


def test_reassembly_can_be_turned_off(smsc):
    text = "B" * 400
    with smpp_rs.Client(smsc.address, "esme", "secret", reassembly=False) as c:
        smsc.inject_mo("447700900123", "12345", text)
        parts = events(c, 3, kinds={"pdu"})
        assert all(p.pdu["command"] == "deliver_sm" for p in parts)


def test_send_options_reach_the_smsc(smsc):
    with smpp_rs.Client(smsc.address, "esme", "secret") as c:
        c.send_text("MyBrand", "447700900123", "Ünïcödé ✓", priority=1, service_type="CMT", encoding="ucs2", validity=3600)
        with pytest.raises(TypeError):
            c.send_text("MyBrand", "447700900123", "x", colour="blue")
        with pytest.raises(smpp_rs.InvalidMessage):
            c.send_text("A sender far too long", "447700900123", "x")


def test_send_many_keeps_order_and_gives_each_result(smsc):
    with smpp_rs.Client(smsc.address, "esme", "secret", window=64) as c:
        messages = [
            {"source": "MyBrand", "destination": "447700900123", "text": f"bulk {n}", "reference": f"b{n}"}
            for n in range(500)
        ]
        messages.append({"source": "A sender far too long", "destination": "1", "text": "bad"})
        results = c.send_many(messages)
        assert len(results) == 501
        assert [r["reference"] for r in results[:500]] == [f"b{n}" for n in range(500)]
        assert all(len(r["message_ids"]) == 1 for r in results[:500])
        assert isinstance(results[500], smpp_rs.InvalidMessage)
        with pytest.raises(TypeError):
            c.send_many([{"source": "x"}])
    assert smsc.stats()["submits"] == 500


def test_a_throttling_smsc_gives_submit_errors_with_the_status():
    with smpp_rs.Smsc(users={"esme": "secret"}, max_submits_per_second=1) as smsc:
        with smpp_rs.Client(smsc.address, "esme", "secret") as c:
            with pytest.raises(smpp_rs.SubmitError) as e:
                for n in range(5):
                    c.send_text("MyBrand", "447700900123", f"t{n}")
            assert e.value.status == "ESME_RTHROTTLED"


def silent_smsc():
    """A listener that answers the bind (built with encode) and nothing after it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def run():
        conn, _ = server.accept()
        data = b""
        while len(data) < 16 or len(data) < int.from_bytes(data[:4], "big"):
            data += conn.recv(4096)
        bind = smpp_rs.decode(data[: int.from_bytes(data[:4], "big")])
        resp = smpp_rs.encode({
            "command": bind["command"] + "_resp",
            "sequence_number": bind["sequence_number"],
            "system_id": "silent",
        })
        conn.sendall(resp)
        while conn.recv(4096):
            pass

    threading.Thread(target=run, daemon=True).start()
    return server


def test_no_answer_is_a_timeout_error():
    server = silent_smsc()
    addr = "127.0.0.1:%d" % server.getsockname()[1]
    with smpp_rs.Client(addr, "esme", "pw", timeout=0.3, enquire_link=None) as c:
        with pytest.raises(smpp_rs.TimeoutError) as e:
            c.send_text("MyBrand", "447700900123", "into the void")
        assert isinstance(e.value, TimeoutError)  # the built-in one too
    server.close()


def test_nobody_listening_is_a_connection_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(ConnectionError):
        smpp_rs.Client(f"127.0.0.1:{port}", "esme", "pw")


def test_a_closed_client_says_so(smsc):
    c = smpp_rs.Client(smsc.address, "esme", "secret")
    c.close()
    with pytest.raises(smpp_rs.ConnectionError):
        c.send_text("MyBrand", "447700900123", "late")
    c.close()  # twice is harmless


def test_waiting_lets_other_threads_run(smsc):
    with smpp_rs.Client(smsc.address, "esme", "secret") as c:
        counter = [0]
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                counter[0] += 1

        t = threading.Thread(target=spin)
        t.start()
        time.sleep(0.05)
        before = counter[0]
        assert c.next_event(timeout=0.5) is None
        after = counter[0]
        stop.set()
        t.join()
        assert after - before > 10_000, "the other thread ran while next_event waited"


def test_ctrl_c_interrupts_a_wait(smsc):
    with smpp_rs.Client(smsc.address, "esme", "secret") as c:
        timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            c.next_event()  # no timeout: only Ctrl-C ends it
        assert time.monotonic() - started < 5


def test_without_tracking_there_are_no_reports(smsc):
    with smpp_rs.Client(smsc.address, "esme", "secret", track=False) as c:
        results = c.send_many(
            [{"source": "MyBrand", "destination": "447700900123", "text": f"t{n}", "registered_delivery": True} for n in range(20)]
        )
        assert all(len(r["message_ids"]) == 1 for r in results)
        receipts = events(c, 20, kinds={"receipt", "report"})
        assert {e.kind for e in receipts} == {"receipt"}
        assert {e.matched for e in receipts} == {"untracked"}
        assert c.stats()["tracker"]["submitted"] == 0


def test_a_sender_that_never_reads_is_told_instead_of_growing(smsc):
    # Without receipts each message is reported once answered; three unread events fill
    # max_unread, and the next send waits `timeout` for a reader, then raises unsent.
    with smpp_rs.Client(smsc.address, "esme", "secret", timeout=0.3, max_unread=3) as c:
        for n in range(3):
            c.send_text("MyBrand", "447700900123", f"t{n}", reference=f"r{n}", registered_delivery=False)
        with pytest.raises(smpp_rs.SmppError, match="next_event"):
            c.send_text("MyBrand", "447700900123", "t3", reference="r3", registered_delivery=False)
        assert {e.reference for e in events(c, 3)} == {"r0", "r1", "r2"}
        c.send_text("MyBrand", "447700900123", "t4", reference="r4", registered_delivery=False)
        assert events(c, 1)[0].reference == "r4"


def test_another_thread_can_close_a_client_that_waits(smsc):
    c = smpp_rs.Client(smsc.address, "esme", "secret")
    threading.Timer(0.3, c.close).start()
    started = time.monotonic()
    with pytest.raises(smpp_rs.ConnectionError):
        c.next_event()  # no timeout: the close ends it
    assert time.monotonic() - started < 10


def test_durations_beyond_the_clock_are_refused(smsc):
    with pytest.raises(ValueError):
        smpp_rs.Client(smsc.address, "esme", "secret", timeout=1e19)
    with smpp_rs.Client(smsc.address, "esme", "secret") as c:
        with pytest.raises(ValueError):
            c.next_event(timeout=1e300)
        with pytest.raises(ValueError):
            c.send_text("MyBrand", "447700900123", "x", validity=-1)


def test_tls_settings_are_checked_naming_the_argument(smsc):
    with pytest.raises(smpp_rs.ConfigError) as e:
        smpp_rs.Client(smsc.address, "esme", "secret", pin_sha256="zz")
    assert "pin_sha256" in str(e.value)
    with pytest.raises(smpp_rs.ConfigError) as e:
        smpp_rs.Client(smsc.address, "esme", "secret", pin_cert=["/nonexistent/smsc.crt"])
    assert "pin_cert" in str(e.value) and "/nonexistent/smsc.crt" in str(e.value)
    with pytest.raises(smpp_rs.ConfigError) as e:
        smpp_rs.Client(smsc.address, "esme", "secret", insecure=True, ca="/x.pem")
    assert "give one of" in str(e.value)
    with pytest.raises(TypeError):
        smpp_rs.Client(smsc.address, "esme", "secret", pin_sha256=42)
    # A TLS option turns TLS on: the plaintext test SMSC then is no TLS peer.
    with pytest.raises(smpp_rs.ConnectionError) as e:
        smpp_rs.Client(smsc.address, "esme", "secret", insecure=True, timeout=2)
    assert "TLS" in str(e.value)


def test_a_stopped_smsc_says_so_and_stopping_twice_is_harmless():
    s = smpp_rs.Smsc(users={"esme": "secret"})
    addr = s.address
    s.stop()
    s.stop()
    with pytest.raises(smpp_rs.SmppError):
        s.stats()
    with pytest.raises(ConnectionError):
        smpp_rs.Client(addr, "esme", "secret", timeout=2)
