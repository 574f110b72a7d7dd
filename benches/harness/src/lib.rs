//! The interleaved-sample timing harness of every bench under `benches/`: warm every operation up,
//! size its batch to about `batch_time`, then take `samples` samples of every operation in
//! turn, rotating which goes first, and keep the nanoseconds per operation of each sample.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long and how often to measure.
pub struct Config {
    pub samples: usize,
    pub batch_time: Duration,
    pub warmup: Duration,
}

impl Config {
    /// 15 samples of about 20 ms, or 3 short ones with `--quick`.
    pub fn new(quick: bool) -> Config {
        if quick {
            Config {
                samples: 3,
                batch_time: Duration::from_millis(2),
                warmup: Duration::from_millis(5),
            }
        } else {
            Config {
                samples: 15,
                batch_time: Duration::from_millis(20),
                warmup: Duration::from_millis(100),
            }
        }
    }
}

/// A benchmarked operation: runs its body `n` times and returns the elapsed time.
/// The body is monomorphised into the loop; only the call per batch is dynamic.
pub type Runner<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

/// Wraps `f`, whose result goes through `black_box`, into a [`Runner`].
pub fn runner<'a, F: FnMut() -> usize + 'a>(mut f: F) -> Runner<'a> {
    Box::new(move |n| {
        let mut acc = 0usize;
        let t = Instant::now();
        for _ in 0..n {
            acc = acc.wrapping_add(f());
        }
        let e = t.elapsed();
        black_box(acc);
        e
    })
}

/// Iterations that take about `target` for this runner.
fn calibrate(r: &mut Runner<'_>, target: Duration) -> u64 {
    let mut n = 1u64;
    loop {
        let e = r(n);
        if e >= target / 10 || n >= 1 << 40 {
            let per = e.as_secs_f64() / n as f64;
            return ((target.as_secs_f64() / per.max(1e-12)) as u64).max(1);
        }
        n *= 2;
    }
}

/// Warms every runner up, sizes its batch, then takes `samples` samples of each in turn,
/// rotating which goes first. Returns the nanoseconds per call of every sample.
pub fn measure(cfg: &Config, runners: &mut [Runner<'_>]) -> Vec<Vec<f64>> {
    for r in runners.iter_mut() {
        let t = Instant::now();
        while t.elapsed() < cfg.warmup {
            r(16);
        }
    }
    let batches: Vec<u64> = runners
        .iter_mut()
        .map(|r| calibrate(r, cfg.batch_time))
        .collect();
    let k = runners.len();
    let mut out = vec![Vec::with_capacity(cfg.samples); k];
    for s in 0..cfg.samples {
        for j in 0..k {
            let i = (s + j) % k;
            let e = runners[i](batches[i]);
            out[i].push(e.as_nanos() as f64 / batches[i] as f64);
        }
    }
    out
}

/// The median of the samples.
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The smallest sample.
pub fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// MB/s (10^6 octets per second) for `bytes` octets every `ns` nanoseconds.
pub fn mb_per_s(bytes: usize, ns: f64) -> f64 {
    bytes as f64 * 1e3 / ns
}

/// `--quick` and `--json`, the arguments every bench takes; `Err` is the exit status.
pub fn parse_args(usage: &str) -> Result<(bool, bool), u8> {
    let (mut quick, mut json) = (false, false);
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--quick" => quick = true,
            "--json" => json = true,
            "-h" | "--help" => {
                println!("{usage}");
                return Err(0);
            }
            other => {
                eprintln!("unknown argument {other:?}; {usage}");
                return Err(2);
            }
        }
    }
    Ok((quick, json))
}
