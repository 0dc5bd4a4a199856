//! The one source of randomness: the operating system's, through `ring::rand::SystemRandom`.

use ring::rand::{SecureRandom, SystemRandom};

/// Fills `buf` with random bytes.
///
/// # Panics
/// If the operating system cannot provide randomness. On the platforms we run on this does
/// not happen after boot (`getrandom` blocks rather than fails), and there is no safe way to
/// continue without it: a key, nonce or token from a failed generator must never be used.
/// Panicking here, like `rand`'s `thread_rng`, keeps every generator's signature simple.
pub(crate) fn fill(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("the operating system's random number generator failed");
}

/// A uniformly random index below `n` (1 ..= 2^32), without modulo bias: draws that fall in
/// the incomplete last block of `n` values are rejected and drawn again.
pub(crate) fn uniform_below(n: usize) -> usize {
    let n = n as u64;
    assert!(
        (1..=1 << 32).contains(&n),
        "uniform_below needs 1 ..= 2^32 choices"
    );
    let limit = (1u64 << 32) / n * n;
    loop {
        let mut bytes = [0u8; 4];
        fill(&mut bytes);
        let draw = u64::from(u32::from_le_bytes(bytes));
        if draw < limit {
            // The remainder is below `n`, which fits in `usize` as it came from one.
            return (draw % n) as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_changes_the_buffer() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        fill(&mut a);
        fill(&mut b);
        assert_ne!(a, [0u8; 32]);
        assert_ne!(a, b);
    }

    #[test]
    fn uniform_below_stays_in_range_and_covers_it() {
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            seen[uniform_below(7)] += 1;
        }
        // Each bucket expects 1000; 700 is more than 9 standard deviations away.
        assert!(seen.iter().all(|&count| count > 700), "{seen:?}");
        assert_eq!(uniform_below(1), 0);
    }
}
