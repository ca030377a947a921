//! Test support: is a parser or renderer linear in its input? Time it on an input of
//! size n and of size 2n (best of a few runs each, so a busy machine adds noise, not
//! failures) and require t(2n) ≤ 2.5 × t(n) + a small constant. A quadratic routine
//! takes 4 × as long and fails; no absolute wall-clock threshold is assumed.

use std::time::{Duration, Instant};

fn best_of(runs: usize, f: &dyn Fn()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Panics unless `run(input(2n))` takes at most ~double `run(input(n))`.
pub fn assert_linear<T>(what: &str, n: usize, input: impl Fn(usize) -> T, run: impl Fn(&T)) {
    let small = input(n);
    let large = input(2 * n);
    run(&small); // warm caches and lazily built statics
    let slack = Duration::from_millis(20);
    // Tests run in parallel on a small machine: a burst of other work can land on
    // either measurement. A quadratic routine fails every attempt; noise does not.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let t1 = best_of(3, &|| run(&small));
        let t2 = best_of(3, &|| run(&large));
        if t2 <= t1.mul_f64(2.5) + slack {
            return;
        }
        seen.push((t1, t2));
    }
    panic!("{what}: n={n} vs 2n took {seen:?} (each more than 2.5× + {slack:?}: not linear)");
}
