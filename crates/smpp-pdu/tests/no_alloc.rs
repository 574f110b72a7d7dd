//! Decoding PDUs without TLVs and encoding into a buffer with enough capacity perform no
//! heap allocation. A counting global allocator counts the allocations of the current
//! thread only while a measured section runs, so other test threads do not interfere.

// A global allocator needs `unsafe impl GlobalAlloc`; the library itself forbids unsafe code.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use smpp_pdu::{Body, CommandStatus, EnquireLink, Pdu, SubmitSm, SubmitSmResp, Tlv};

struct CountingAllocator;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn record() {
    // `try_with`: the thread-locals may already be gone while a thread shuts down.
    let _ = MEASURING.try_with(|m| {
        if m.get() {
            let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: forwarded unchanged to the system allocator, with the caller's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        // SAFETY: as above; `ptr` was allocated by `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns how many allocations (alloc, alloc_zeroed, realloc) this thread made
/// meanwhile.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    ALLOCATIONS.with(|a| a.set(0));
    MEASURING.with(|m| m.set(true));
    let r = f();
    MEASURING.with(|m| m.set(false));
    (ALLOCATIONS.with(Cell::get), r)
}

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// Decodes `bytes` under measurement, checks the decoded value with `check` outside the
/// measured section, and returns the allocation count.
fn decode_allocations(bytes: &[u8], check: impl FnOnce(&Pdu<'_>)) -> usize {
    let (n, result) = allocations(|| {
        let r = Pdu::decode(black_box(bytes));
        black_box(&r);
        r
    });
    let (pdu, used) = result.expect("valid PDU").expect("whole PDU");
    assert_eq!(used, bytes.len());
    check(&pdu);
    n
}

// submit_sm (0x48 octets): service_type "", source 05 00 "Sender", destination 01 01
// "447700900123", validity "000002000000000R", registered_delivery 1, "Hello".
const SUBMIT_SM: &str = "00000048 00000004 00000000 00000001
    00 0500 53656E64657200 0101 34343737303039303031323300 000000 00
    3030303030323030303030303030305200 01000000 05 48656C6C6F";

// deliver_sm (0x51 octets), no TLVs: source 01 01 "447700900123", destination 05 00
// "Sender", esm_class 0x04, 30-octet receipt text.
const DELIVER_SM: &str = "00000051 00000005 00000000 00000011
    00 0101 34343737303039303031323300 0500 53656E64657200 040000 00 00 00000000
    1E 69643A61626331323320737461743A44454C49565244206572723A303030";

const ENQUIRE_LINK: &str = "00000010 00000015 00000000 00000003";

// submit_sm_resp with message_id "5a1b2c3d".
const SUBMIT_SM_RESP: &str = "00000019 80000004 00000000 00000001 3561316232633364 00";

#[test]
fn decoding_and_encoding_without_tlvs_does_not_allocate() {
    // Everything below runs on this one thread; only this thread's allocations count.

    // Sanity: the counter works (decoding TLVs allocates their Vec).
    let with_tlv = hex("00000015 80000015 00000000 00000001 0428 0001 32");
    let n = decode_allocations(&with_tlv, |p| {
        assert_eq!(p.body.tlvs(), &[Tlv::CongestionState(50)])
    });
    assert!(
        n >= 1,
        "the counting allocator saw no allocation for a TLV list"
    );
    let (n, v) = allocations(|| black_box(Vec::<u8>::with_capacity(10)));
    assert_eq!(n, 1);
    drop(v);

    let submit_sm = hex(SUBMIT_SM);
    let n = decode_allocations(&submit_sm, |p| {
        let Body::SubmitSm(s) = &p.body else {
            panic!("{p:?}")
        };
        assert_eq!(s.short_message, "Hello");
        assert_eq!(s.destination_addr, "447700900123");
    });
    assert_eq!(n, 0, "Pdu::decode of a submit_sm without TLVs allocated");

    let deliver_sm = hex(DELIVER_SM);
    let n = decode_allocations(&deliver_sm, |p| {
        let Body::DeliverSm(d) = &p.body else {
            panic!("{p:?}")
        };
        assert_eq!(d.esm_class, 0x04);
        assert_eq!(d.short_message, "id:abc123 stat:DELIVRD err:000");
        assert!(d.tlvs.is_empty());
    });
    assert_eq!(n, 0, "Pdu::decode of a deliver_sm without TLVs allocated");

    let enquire_link = hex(ENQUIRE_LINK);
    let n = decode_allocations(&enquire_link, |p| {
        assert_eq!(*p, Pdu::new(3, EnquireLink::default()));
    });
    assert_eq!(n, 0, "Pdu::decode of enquire_link allocated");

    let submit_sm_resp = hex(SUBMIT_SM_RESP);
    let n = decode_allocations(&submit_sm_resp, |p| {
        assert_eq!(
            *p,
            Pdu::new(
                1,
                SubmitSmResp {
                    message_id: "5a1b2c3d".into(),
                    tlvs: vec![],
                }
            )
        );
    });
    assert_eq!(n, 0, "Pdu::decode of submit_sm_resp allocated");

    // A header-only error response decodes to a default body without allocating either.
    let throttled = hex("00000010 80000004 00000058 00000002");
    let n = decode_allocations(&throttled, |p| {
        assert_eq!(p.command_status, CommandStatus::ESME_RTHROTTLED);
    });
    assert_eq!(
        n, 0,
        "Pdu::decode of a header-only error response allocated"
    );

    // Encoding into a buffer with enough capacity: borrowed fields, no TLVs.
    let submit = Pdu::new(
        1,
        SubmitSm {
            source_addr_ton: 5,
            source_addr: "Sender".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900123".into(),
            validity_period: "000002000000000R".into(),
            registered_delivery: 1,
            short_message: "Hello".into(),
            ..Default::default()
        },
    );
    let mut out = Vec::with_capacity(512);
    let (n, len) = allocations(|| submit.encode(black_box(&mut out)));
    assert_eq!(
        n, 0,
        "encoding a submit_sm into a Vec with capacity allocated"
    );
    assert_eq!(len, Ok(submit_sm.len()));
    assert_eq!(out, submit_sm);

    // Appending a second PDU to the same buffer does not allocate either.
    let deliver = match Pdu::decode(&deliver_sm).unwrap().unwrap().0.body {
        Body::DeliverSm(d) => Pdu::new(0x11, d),
        other => panic!("{other:?}"),
    };
    let (n, len) = allocations(|| deliver.encode(black_box(&mut out)));
    assert_eq!(
        n, 0,
        "encoding a deliver_sm into a Vec with capacity allocated"
    );
    assert_eq!(len, Ok(deliver_sm.len()));
    assert_eq!(out[submit_sm.len()..], deliver_sm[..]);

    // A failed encode does not allocate and leaves the buffer alone.
    let bad = Pdu::new(
        1,
        SubmitSm {
            source_addr: "123456789012345678901".into(),
            ..Default::default()
        },
    );
    let before = out.clone();
    let (n, r) = allocations(|| bad.encode(black_box(&mut out)));
    assert!(r.is_err());
    assert_eq!(n, 0, "a failed encode allocated");
    assert_eq!(out, before);
}
