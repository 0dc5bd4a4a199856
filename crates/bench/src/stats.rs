//! Percentiles of latency samples, and formatting them for the Markdown table.

/// Latency samples in milliseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    ms: Vec<f64>,
}

impl Samples {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            ms: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, ms: f64) {
        self.ms.push(ms);
    }

    pub fn extend(&mut self, other: Samples) {
        self.ms.extend(other.ms);
    }

    pub fn len(&self) -> usize {
        self.ms.len()
    }

    /// Nearest-rank percentile (`p` in 0..=100); NaN when empty. Nearest rank rather than
    /// interpolation so every reported number is a latency that was actually observed.
    pub fn pct(&self, p: f64) -> f64 {
        if self.ms.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.ms.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    pub fn p50(&self) -> f64 {
        self.pct(50.0)
    }

    pub fn p99(&self) -> f64 {
        self.pct(99.0)
    }
}

/// Milliseconds with a precision that suits their size.
pub fn ms(v: f64) -> String {
    if v.is_nan() {
        "n/a".into()
    } else if v < 1.0 {
        format!("{v:.3}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A ratio such as `1.07×`.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "n/a".into()
    }
}

/// `met` or `MISSED` against a target, for the table's last column.
pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[f64]) -> Samples {
        let mut s = Samples::default();
        for v in values {
            s.push(*v);
        }
        s
    }

    #[test]
    fn nearest_rank_percentiles() {
        let s = samples(&[5.0, 1.0, 4.0, 2.0, 3.0]);
        assert_eq!(s.p50(), 3.0);
        assert_eq!(s.p99(), 5.0);
        assert_eq!(s.pct(0.0), 1.0);
        let hundred = samples(&(1..=100).map(f64::from).collect::<Vec<_>>());
        assert_eq!(hundred.p50(), 50.0);
        assert_eq!(hundred.p99(), 99.0);
    }

    #[test]
    fn empty_samples_have_no_percentile() {
        assert!(Samples::default().p50().is_nan());
        assert_eq!(ms(f64::NAN), "n/a");
    }

    #[test]
    fn formatting() {
        assert_eq!(ms(0.1234), "0.123");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(1234.4), "1234");
        assert_eq!(ratio(2.2, 2.0), "1.10×");
        assert_eq!(ratio(1.0, 0.0), "n/a");
    }
}
