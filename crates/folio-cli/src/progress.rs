//! What the progress bars of `folio harvest` and `folio serve --demo` share: a rate that
//! reads at a glance.

use indicatif::{HumanCount, ProgressState, ProgressStyle};

/// The style of `template`, which may name `{rate}`: records a second, rounded (indicatif's
/// own `{per_sec}` shows four decimals, as in `172,605.7682/s`).
pub(crate) fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            // Writing into the bar's line buffer cannot fail.
            let _ = w.write_str(&rate(state.per_sec()));
        })
}

/// A rate a second: a whole number with its thousands separated, or one decimal below 10.
fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "0/s".to_owned()
    } else if per_sec < 10.0 {
        format!("{per_sec:.1}/s")
    } else {
        // A rate of records is far below u64::MAX: the conversion saturates at worst.
        format!("{}/s", HumanCount(per_sec.round() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_are_rounded() {
        assert_eq!(rate(172_605.768_2), "172,606/s");
        assert_eq!(rate(1_000.4), "1,000/s");
        assert_eq!(rate(12.5), "13/s");
        assert_eq!(rate(2.345), "2.3/s");
        assert_eq!(rate(0.0), "0/s");
        assert_eq!(rate(f64::NAN), "0/s");
    }
}
