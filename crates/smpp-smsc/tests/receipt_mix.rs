//! Seeded receipt knobs on a virtual clock: the final-state mix
//! (`SmscConfig::state_mix`), receipt delay distributions
//! (`SmscConfig::receipt_delay_dist`) and UUID message ids (`IdFormat::Uuid`), all drawn
//! from `SmscConfig::seed`. 10,000 submits each, no socket, no sleep.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use smpp_pdu::receipt::{Receipt, ReceiptState};
use smpp_smsc::{IdFormat, ReceiptDelay, SmscConfig};

mod common;
use common::rig::{ok_id, receipt, sm, Rig};

const N: usize = 10_000;

/// A core with one transceiver of "esme" bound on connection 1 at `t0`.
fn rig(config: SmscConfig) -> Rig {
    let mut rig = Rig::new(config);
    rig.bound(1);
    rig
}

/// Submits `n` messages asking for a receipt, all at `t0`; their ids in order.
fn submit_all(rig: &mut Rig, n: usize) -> Vec<String> {
    let ids: Vec<String> = (0..n)
        .map(|i| {
            let id = ok_id(&rig.request(1, 0, sm(&format!("4477009{i:05}"), "hello", 1)));
            // The records are not looked at here.
            rig.records.clear();
            id
        })
        .collect();
    assert_eq!(ids.len(), n);
    ids
}

/// Runs the clock from timeout to timeout until nothing is due; each receipt with the
/// time it went out after `t0`.
fn receipts(rig: &mut Rig) -> Vec<(Duration, Receipt)> {
    rig.run(u64::MAX / 2)
        .iter()
        .map(|(ms, o)| (Duration::from_millis(*ms), receipt(o).1))
        .collect()
}

/// The final states of `N` messages under `config`, in the order of their ids.
fn states(config: SmscConfig) -> Vec<ReceiptState> {
    let mut rig = rig(config);
    let ids = submit_all(&mut rig, N);
    let by_id: HashMap<String, ReceiptState> = receipts(&mut rig)
        .into_iter()
        .map(|(_, r)| (r.id, r.state))
        .collect();
    assert_eq!(by_id.len(), N, "one receipt per message");
    ids.iter().map(|id| by_id[id].clone()).collect()
}

fn mix() -> Vec<(ReceiptState, u32)> {
    vec![
        (ReceiptState::Delivered, 90),
        (ReceiptState::Undeliverable, 7),
        (ReceiptState::Expired, 3),
    ]
}

#[test]
fn the_mix_is_within_one_and_a_half_points_of_each_weight_and_reproducible() {
    let config = || SmscConfig::default().state_mix(mix()).seed(42);
    let got = states(config());
    for (state, weight) in mix() {
        let share = got.iter().filter(|s| **s == state).count() as f64 * 100.0 / N as f64;
        assert!(
            (share - f64::from(weight)).abs() <= 1.5,
            "{state:?}: {share:.2} % for weight {weight}"
        );
    }
    assert_eq!(got.len(), N);
    // The same seed: the same sequence; another seed: another one, same proportions.
    assert_eq!(states(config()), got);
    let other = states(SmscConfig::default().state_mix(mix()).seed(43));
    assert_ne!(other, got);
    let delivered = other
        .iter()
        .filter(|s| **s == ReceiptState::Delivered)
        .count();
    assert!((8_850..=9_150).contains(&delivered), "{delivered}");
}

#[test]
fn rules_take_precedence_over_the_mix_without_shifting_it() {
    let plain = states(SmscConfig::default().state_mix(mix()).seed(7));
    let ruled = states(
        SmscConfig::default()
            .state_mix(mix())
            .seed(7)
            .final_state_every(10, ReceiptState::Rejected, "069"),
    );
    for (i, (p, r)) in plain.iter().zip(&ruled).enumerate() {
        if (i + 1) % 10 == 0 {
            assert_eq!(*r, ReceiptState::Rejected, "message {}", i + 1);
        } else {
            assert_eq!(p, r, "message {}", i + 1);
        }
    }
}

#[test]
fn a_mix_of_one_state_gives_it_to_every_message() {
    let got = states(SmscConfig::default().state_mix([(ReceiptState::Undeliverable, 100)]));
    assert!(got.iter().all(|s| *s == ReceiptState::Undeliverable));
    // Weights of 0 only: the mix is ignored, receipt_state applies.
    let got = states(SmscConfig::default().state_mix([(ReceiptState::Expired, 0)]));
    assert!(got.iter().all(|s| *s == ReceiptState::Delivered));
}

/// The delays of `N` receipts under `dist`, in seconds.
fn delays(dist: ReceiptDelay, seed: u64) -> Vec<f64> {
    let mut rig = rig(SmscConfig::default().receipt_delay_dist(dist).seed(seed));
    submit_all(&mut rig, N);
    let got: Vec<f64> = receipts(&mut rig)
        .into_iter()
        .map(|(d, _)| d.as_secs_f64())
        .collect();
    assert_eq!(got.len(), N);
    got
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn uniform_delays_fall_between_min_and_max_around_the_middle() {
    let dist = ReceiptDelay::Uniform {
        min: Duration::from_secs(1),
        max: Duration::from_secs(5),
    };
    let d = delays(dist, 1);
    assert!(
        d.iter().all(|x| (1.0..=5.0).contains(x)),
        "out of [1 s, 5 s]"
    );
    // The mean of 10,000 draws: 3 s within about 4 standard errors (0.0115 s).
    let m = mean(&d);
    assert!((m - 3.0).abs() < 0.05, "mean {m}");
    // Spread over the range, not stuck at one value.
    assert!(d.iter().any(|x| *x < 1.1) && d.iter().any(|x| *x > 4.9));
    assert_eq!(delays(dist, 1), d, "the same seed, the same delays");
}

#[test]
fn exponential_delays_are_capped_and_have_about_the_right_mean() {
    // A cap far out: the mean is about the distribution's (2 s * (1 - e^-10)).
    let d = delays(
        ReceiptDelay::Exponential {
            mean: Duration::from_secs(2),
            cap: Duration::from_secs(20),
        },
        5,
    );
    assert!(d.iter().all(|x| (0.0..=20.0).contains(x)));
    let m = mean(&d);
    assert!((m - 2.0).abs() < 0.1, "mean {m}");
    // A cap near the mean: about e^-1.5 (22 %) of the delays are the cap, and the mean is
    // that of the capped distribution, 2 s * (1 - e^-1.5) = 1.554 s.
    let d = delays(
        ReceiptDelay::Exponential {
            mean: Duration::from_secs(2),
            cap: Duration::from_secs(3),
        },
        5,
    );
    assert!(d.iter().all(|x| *x <= 3.0), "above the cap");
    let at_cap = d.iter().filter(|x| **x == 3.0).count() as f64 / N as f64;
    assert!((at_cap - (-1.5f64).exp()).abs() < 0.02, "{at_cap}");
    let m = mean(&d);
    let expected = 2.0 * (1.0 - (-1.5f64).exp());
    assert!((m - expected).abs() < 0.05, "mean {m}, expected {expected}");
}

fn well_formed_uuid(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

#[test]
fn uuid_ids_are_unique_well_formed_and_seeded() {
    let run = |seed| {
        let mut rig = rig(SmscConfig::default().id_format(IdFormat::Uuid).seed(seed));
        let ids = submit_all(&mut rig, N);
        let receipted: HashSet<String> =
            receipts(&mut rig).into_iter().map(|(_, r)| r.id).collect();
        (ids, receipted)
    };
    let (ids, receipted) = run(9);
    assert!(
        ids.iter().all(|id| well_formed_uuid(id)),
        "{:?}",
        ids.iter().find(|id| !well_formed_uuid(id))
    );
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), N, "duplicate ids");
    // Each receipt names the id its response gave.
    assert_eq!(receipted, ids.iter().cloned().collect::<HashSet<_>>());
    assert_eq!(run(9).0, ids, "the same seed, the same ids");
    let other = run(10).0;
    assert!(other.iter().all(|id| !unique.contains(id)), "another seed");
}
