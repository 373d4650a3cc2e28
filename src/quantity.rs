//! Kubernetes resource quantities (`2`, `500m`, `4Gi`, `1e3`), exactly as the API server reads
//! them, for the comparisons KubeDirector makes (requests against `minResources`, storage against
//! `minStorage`) and for the `flavor` figures in `configmeta.json`.
//!
//! Values are held as an integer count of nano-units, which is exact for every suffix.

use std::cmp::Ordering;
use std::fmt;

/// Equality and order compare amounts, not spellings: `1Gi == 1024Mi`.
#[derive(Clone, Debug)]
pub struct Quantity {
    /// The text as written (numbers as JSON printed them); this is what the output carries.
    pub text: String,
    nanos: i128,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Parses a quantity given as a JSON string or number.
    pub fn from_json(value: &serde_json::Value) -> Result<Quantity, String> {
        match value {
            serde_json::Value::String(s) => Quantity::parse(s),
            serde_json::Value::Number(n) => Quantity::parse(&n.to_string()),
            other => Err(format!("{other} is not a quantity")),
        }
    }

    pub fn parse(text: &str) -> Result<Quantity, String> {
        let bad = || format!("\"{text}\" is not a Kubernetes quantity (for example 2, 500m, 4Gi)");
        let too_big = || format!("\"{text}\" is too large a quantity");
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(bad());
        }
        // multiplier as a power of ten (for decimal suffixes and exponents) or of two (binary).
        let (ten_power, two_power): (i32, u32) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            exponent if exponent.starts_with(['e', 'E']) => {
                let power: i32 = exponent[1..].parse().map_err(|_| bad())?;
                if !(-30..=30).contains(&power) {
                    return Err(too_big());
                }
                (power, 0)
            }
            _ => return Err(bad()),
        };
        // value = (whole.fraction) * 10^ten_power * 2^two_power, in nano-units.
        let digits: String = format!("{whole}{fraction}");
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| too_big())?
        };
        let scale = 9 + ten_power - fraction.len() as i32;
        let mut nanos = mantissa
            .checked_mul(1i128 << two_power)
            .ok_or_else(too_big)?;
        if scale >= 0 {
            let factor = 10i128.checked_pow(scale as u32).ok_or_else(too_big)?;
            nanos = nanos.checked_mul(factor).ok_or_else(too_big)?;
        } else {
            let divisor = 10i128.checked_pow((-scale) as u32).ok_or_else(too_big)?;
            // Like Kubernetes, precision below a nano-unit rounds up.
            nanos = (nanos + divisor - 1) / divisor;
        }
        Ok(Quantity {
            text: text.to_string(),
            nanos: if negative { -nanos } else { nanos },
        })
    }

    pub fn is_positive(&self) -> bool {
        self.nanos > 0
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// Whole units, rounded up (KubeDirector's `cores` figure).
    pub fn ceil_units(&self) -> i128 {
        (self.nanos + NANO - 1).div_euclid(NANO)
    }

    /// Bytes as whole mebibytes, rounded down (KubeDirector's `memory` figure).
    pub fn mebibytes(&self) -> i128 {
        self.nanos.div_euclid(NANO) >> 20
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn suffixes_scale_as_kubernetes_does() {
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1"), q("1000m"));
        assert_eq!(q("1k"), q("1e3"));
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q(".5Gi"), q("512Mi"));
        assert!(q("1G") < q("1Gi"));
        assert!(q("2") > q("1999m"));
        assert!(q("-1") < q("0"));
    }

    #[test]
    fn flavor_figures_round_like_kubedirector() {
        assert_eq!(q("4Gi").mebibytes(), 4096);
        assert_eq!(q("1500M").mebibytes(), 1430);
        assert_eq!(q("2").ceil_units(), 2);
        assert_eq!(q("2500m").ceil_units(), 3);
        assert_eq!(q("100m").ceil_units(), 1);
    }

    #[test]
    fn malformed_and_huge_quantities_are_refused() {
        for bad in [
            "",
            "Gi",
            "1.2.3",
            "1Gb",
            "1 Gi",
            "0x10",
            "1e99",
            "99999999999999999999999999999999999Ei",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
        let number = serde_json::json!(2);
        assert_eq!(Quantity::from_json(&number).unwrap().text, "2");
    }
}
