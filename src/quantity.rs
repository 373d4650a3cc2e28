//! Kubernetes resource quantities (`2`, `500m`, `4Gi`, `1e3`), exactly as the API server reads
//! them, for the comparisons KubeDirector makes (requests against `minResources`, storage against
//! `minStorage`) and for the `flavor` figures in `configmeta.json`.
//!
//! Values are held as an integer count of nano-units, which is exact for every suffix; precision
//! below a nano-unit rounds up, as Kubernetes rounds. Kubernetes caps quantities at 2^63-1 of
//! the unit; kdrender refuses larger ones instead, so every figure computed from a quantity
//! is exact and no arithmetic on one can overflow.
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::cmp::Ordering;
use std::fmt;

/// Equality and order compare amounts, not spellings: `1Gi == 1024Mi`.
#[derive(Clone, Debug)]
pub struct Quantity {
    /// The text as written (numbers as JSON printed them); this is what the output carries.
    pub text: String,
    /// At most [`MAX_NANOS`] in magnitude.
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
/// A mebibyte in nano-units.
const MEBI_NANOS: i128 = 1_048_576_000_000_000;
/// A gibibyte in nano-units.
const GIBI_NANOS: i128 = 1_073_741_824_000_000_000;
/// Kubernetes' cap, 2^63-1 units, in nano-units.
const MAX_NANOS: u128 = 9_223_372_036_854_775_807_000_000_000;
/// The largest quantity, as messages spell it.
pub const MAX_TEXT: &str = "9223372036854775807 (2^63-1)";
/// Significant digits read exactly; more would not fit the arithmetic below (10^38 < 2^127).
const MAX_DIGITS: usize = 38;
/// 2^60 (`Ei`) < 10^19: a number scaled down by more than its digits and this many places is
/// below one nano-unit.
const BINARY_DIGITS: i64 = 19;

/// Why a text is not a quantity kdrender accepts; each names the text as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("\"{0}\" is not a Kubernetes quantity (for example 2, 500m, 4Gi)")]
    Malformed(String),
    #[error("\"{0}\" is out of range: Kubernetes quantities go up to {MAX_TEXT}")]
    OutOfRange(String),
    #[error("\"{0}\" has more than {MAX_DIGITS} significant digits")]
    TooPrecise(String),
    /// A JSON value that is neither a string nor a number.
    #[error("{0} is not a quantity")]
    NotAQuantity(serde_json::Value),
}

/// A quantity's text in its parts, before any arithmetic: `-1.5Gi` is negative, whole `1`,
/// fraction `5`, times 2^30.
struct Spelling<'t> {
    negative: bool,
    whole: &'t str,
    fraction: &'t str,
    ten_power: i64,
    two_power: u32,
}

impl Spelling<'_> {
    /// The parts of a well-formed quantity (the schemas' pattern
    /// `^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$`).
    fn of(text: &str) -> Option<Spelling<'_>> {
        let (negative, rest) = match (text.strip_prefix('-'), text.strip_prefix('+')) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => (false, text),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return None;
        }
        let (ten_power, two_power) = multiplier(suffix)?;
        Some(Spelling {
            negative,
            whole,
            fraction,
            ten_power,
            two_power,
        })
    }
}

/// Whether a text has the form of a quantity, whatever its size.
pub fn is_well_formed(text: &str) -> bool {
    Spelling::of(text).is_some()
}

impl Quantity {
    /// Parses a quantity given as a JSON string or number.
    pub fn from_json(value: &serde_json::Value) -> Result<Quantity, QuantityError> {
        match value {
            serde_json::Value::String(s) => Quantity::parse(s),
            serde_json::Value::Number(n) => Quantity::parse(&n.to_string()),
            other => Err(QuantityError::NotAQuantity(other.clone())),
        }
    }

    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let too_big = || QuantityError::OutOfRange(text.to_string());
        let Spelling {
            negative,
            whole,
            fraction,
            ten_power,
            two_power,
        } = Spelling::of(text).ok_or_else(|| QuantityError::Malformed(text.to_string()))?;
        // The number as an integer of significant digits times a power of ten.
        let fraction = fraction.trim_end_matches('0');
        let digits = format!("{whole}{fraction}");
        let significant = digits.trim_start_matches('0');
        // Digits before the decimal point of the value (binary suffixes only add to them).
        let integer_digits = i64::try_from(significant.len()).ok().and_then(|n| {
            n.checked_add(ten_power)?
                .checked_sub(i64::try_from(fraction.len()).ok()?)
        });
        if !significant.is_empty() && integer_digits.is_none_or(|n| n > 19) {
            return Err(too_big());
        }
        if significant.len() > MAX_DIGITS {
            return Err(QuantityError::TooPrecise(text.to_string()));
        }
        let mantissa: u128 = if significant.is_empty() {
            0
        } else {
            significant
                .parse()
                .map_err(|_| QuantityError::Malformed(text.to_string()))?
        };
        // value = mantissa × 10^scale × 2^two_power nano-units.
        let scale = i64::try_from(fraction.len())
            .ok()
            .and_then(|places| ten_power.checked_add(9)?.checked_sub(places))
            .ok_or_else(too_big)?;
        let magnitude = nanos(mantissa, scale, two_power)
            .filter(|n| *n <= MAX_NANOS)
            .ok_or_else(too_big)?;
        let magnitude = i128::try_from(magnitude).map_err(|_| too_big())?;
        Ok(Quantity {
            text: text.to_string(),
            nanos: if negative {
                magnitude.checked_neg().ok_or_else(too_big)?
            } else {
                magnitude
            },
        })
    }

    /// `1Gi`, KubeDirector's size of a block device that names none.
    pub fn gibibyte() -> Quantity {
        Quantity {
            text: "1Gi".to_string(),
            nanos: GIBI_NANOS,
        }
    }

    pub fn is_positive(&self) -> bool {
        self.nanos > 0
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whole units, rounded up (KubeDirector's `cores` figure).
    pub fn ceil_units(&self) -> i128 {
        // The magnitude is bounded, so neither step can fail.
        let whole = self.nanos.checked_div_euclid(NANO).unwrap_or_default();
        let partial = self.nanos.checked_rem_euclid(NANO).unwrap_or_default() != 0;
        whole.saturating_add(i128::from(partial))
    }

    /// Bytes as whole mebibytes, rounded down (KubeDirector's `memory` figure).
    pub fn mebibytes(&self) -> i128 {
        self.nanos
            .checked_div_euclid(MEBI_NANOS)
            .unwrap_or_default()
    }
}

/// A suffix as a power of ten (decimal suffixes and exponents) and a power of two (binary).
fn multiplier(suffix: &str) -> Option<(i64, u32)> {
    Some(match suffix {
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
        exponent => {
            let power = exponent.strip_prefix(['e', 'E'])?;
            let digits = power.strip_prefix(['+', '-']).unwrap_or(power);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Any exponent is well-formed; one beyond i64 is far out of range either way.
            let huge = if power.starts_with('-') {
                -1_000_000_000_000
            } else {
                1_000_000_000_000
            };
            (power.parse().unwrap_or(huge), 0)
        }
    })
}

/// `mantissa × 10^scale × 2^two_power`, rounded up to a whole number; `None` if it does not fit.
fn nanos(mantissa: u128, scale: i64, two_power: u32) -> Option<u128> {
    if mantissa == 0 {
        return Some(0);
    }
    if let Ok(up) = u32::try_from(scale) {
        return mantissa
            .checked_mul(10u128.checked_pow(up)?)?
            .checked_mul(1u128.checked_shl(two_power)?);
    }
    // Dividing by 10^down: beyond the mantissa's digits and 2^60's, the value is below one.
    let down = scale.checked_neg()?;
    let digits = i64::from(mantissa.checked_ilog10()?).checked_add(1)?;
    if down > digits.checked_add(BINARY_DIGITS)? {
        return Some(1);
    }
    // 10^down in at most two factors, each of which fits.
    let first = u32::try_from(down.min(MAX_DIGITS as i64)).ok()?;
    let second = u32::try_from(down.checked_sub(i64::from(first))?).ok()?;
    let once = ceil_scaled(mantissa, two_power, 10u128.checked_pow(first)?)?;
    ceil_scaled(once, 0, 10u128.checked_pow(second)?)
}

/// `⌈value × 2^two_power / divisor⌉` by long division, one bit at a time, so that no
/// intermediate exceeds the result or twice the divisor; `None` if the result does not fit.
fn ceil_scaled(value: u128, two_power: u32, divisor: u128) -> Option<u128> {
    let mut quotient = value.checked_div(divisor)?;
    let mut remainder = value.checked_rem(divisor)?;
    for _ in 0..two_power {
        quotient = quotient.checked_mul(2)?;
        remainder = remainder.checked_mul(2)?;
        if remainder >= divisor {
            remainder = remainder.checked_sub(divisor)?;
            quotient = quotient.checked_add(1)?;
        }
    }
    if remainder > 0 {
        quotient = quotient.checked_add(1)?;
    }
    Some(quotient)
}

/// Amounts by resource name (`cpu`, `memory`, `nvidia.com/gpu`), in name order: a role's limits
/// or requests. A role names a handful, for which a `BTreeMap` would hold a whole node (about
/// 800 bytes) per role for the length of the run.
#[derive(Clone, Debug, Default)]
pub struct Amounts(Vec<(String, Quantity)>);

impl Amounts {
    pub fn get(&self, name: &str) -> Option<&Quantity> {
        let found = self.0.binary_search_by(|(key, _)| key.as_str().cmp(name));
        found
            .ok()
            .and_then(|at| self.0.get(at))
            .map(|(_, amount)| amount)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Name and amount, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Quantity)> {
        self.0.iter().map(|(name, amount)| (name, amount))
    }
}

impl From<std::collections::BTreeMap<String, Quantity>> for Amounts {
    fn from(map: std::collections::BTreeMap<String, Quantity>) -> Amounts {
        Amounts(map.into_iter().collect())
    }
}

#[cfg(test)]
// The tests work out expected values with plain arithmetic on small constants; the module's
// arithmetic lint is for the code under test, whose inputs are the user's.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    fn nanos_of(s: &str) -> i128 {
        q(s).nanos
    }

    #[test]
    fn amounts_are_found_by_name_and_listed_in_name_order() {
        let names = ["nvidia.com/gpu", "cpu", "memory", "ephemeral-storage"];
        let map: std::collections::BTreeMap<String, Quantity> =
            names.iter().map(|n| (n.to_string(), q("1"))).collect();
        let amounts = Amounts::from(map);
        let listed: Vec<&str> = amounts.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            listed,
            ["cpu", "ephemeral-storage", "memory", "nvidia.com/gpu"]
        );
        for name in names {
            assert_eq!(amounts.get(name), Some(&q("1")), "{name}");
        }
        assert!(amounts.contains_key("memory"));
        assert!(!amounts.contains_key("mem") && amounts.get("zzz").is_none());
        assert!(!amounts.is_empty() && Amounts::default().is_empty());
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
    fn every_suffix_has_its_exact_value() {
        let cases: [(&str, i128); 17] = [
            ("3", 3_000_000_000),
            ("3n", 3),
            ("3u", 3_000),
            ("3m", 3_000_000),
            ("3k", 3_000_000_000_000),
            ("3M", 3_000_000_000_000_000),
            ("3G", 3_000_000_000_000_000_000),
            ("3T", 3_000_000_000_000_000_000_000),
            ("3P", 3_000_000_000_000_000_000_000_000),
            ("3E", 3_000_000_000_000_000_000_000_000_000),
            ("3Ki", 3 * 1024 * 1_000_000_000),
            ("3Mi", 3 * (1 << 20) * 1_000_000_000),
            ("3Gi", 3 * (1 << 30) * 1_000_000_000),
            ("3Ti", 3 * (1 << 40) * 1_000_000_000),
            ("3Pi", 3 * (1 << 50) * 1_000_000_000),
            ("7Ei", 7 * (1 << 60) * 1_000_000_000),
            ("3e2", 300_000_000_000),
        ];
        for (text, expected) in cases {
            assert_eq!(nanos_of(text), expected, "{text}");
        }
    }

    #[test]
    fn exponents_and_fractions_round_up_below_a_nano_unit() {
        assert_eq!(nanos_of("1E-9"), 1);
        assert_eq!(nanos_of("1e-9"), 1);
        assert_eq!(nanos_of("1.5e-9"), 2);
        assert_eq!(nanos_of("1e-30"), 1);
        assert_eq!(nanos_of("1e-99999999999999999999"), 1);
        assert_eq!(nanos_of("0.1n"), 1);
        assert_eq!(nanos_of("-0.1n"), -1);
        assert_eq!(nanos_of("0.0000000001Ki"), 103); // 102.4 nano-units
        assert_eq!(nanos_of("0.000000000000000000000000000000001Ei"), 1); // 1.15e-6
        // 10^41 divides in two steps; checked against exact integer arithmetic.
        let many = format!(
            "0.{}12345678901234567890123456789012345678Ei",
            "0".repeat(12)
        );
        assert_eq!(nanos_of(&many), 142_335_986_942_044);
        assert_eq!(nanos_of("0e99999"), 0);
        assert_eq!(
            nanos_of("000000000000000000000000000000000000000000001"),
            NANO
        );
        assert_eq!(
            nanos_of("1.000000000000000000000000000000000000000000"),
            NANO
        );
        assert_eq!(nanos_of("+2"), 2 * NANO);
    }

    #[test]
    fn the_range_ends_at_kubernetes_cap() {
        let largest = 9_223_372_036_854_775_807 * NANO;
        assert_eq!(nanos_of("9223372036854775807"), largest);
        assert_eq!(nanos_of("-9223372036854775807"), -largest);
        assert_eq!(
            q("9223372036854775807").ceil_units(),
            9_223_372_036_854_775_807
        );
        for huge in [
            "9223372036854775808",
            "9223372036854775807.000000001",
            "8Ei",
            "9224P",
            "1e19",
            "1e30",
            "1E30",
            "-1e30",
            "1e99999999999999999999",
            "170141183460469231731687303715884105727e-10",
            "170141183460469231731687303715.884105727",
        ] {
            let error = Quantity::parse(huge).unwrap_err();
            assert_eq!(error, QuantityError::OutOfRange(huge.to_string()));
        }
        let error = Quantity::parse(&format!("1{}", "0".repeat(40))).unwrap_err();
        assert!(matches!(error, QuantityError::OutOfRange(_)), "{error}");
        let error = Quantity::parse(&format!("0.{}1", "3".repeat(40))).unwrap_err();
        assert!(matches!(error, QuantityError::TooPrecise(_)), "{error}");
        assert!(
            error
                .to_string()
                .ends_with("has more than 38 significant digits")
        );
    }

    #[test]
    fn flavor_figures_round_like_kubedirector() {
        assert_eq!(q("4Gi").mebibytes(), 4096);
        assert_eq!(q("1500M").mebibytes(), 1430);
        assert_eq!(q("2").ceil_units(), 2);
        assert_eq!(q("2500m").ceil_units(), 3);
        assert_eq!(q("100m").ceil_units(), 1);
        assert_eq!(q("1n").ceil_units(), 1);
        assert_eq!(q("0").ceil_units(), 0);
        assert_eq!(q("7Ei").mebibytes(), 7 << 40);
    }

    proptest::proptest! {
        /// Whole numbers with a suffix: exactly their value when Kubernetes' range holds it,
        /// an error otherwise; never a wrapped figure or a panic.
        #[test]
        fn whole_numbers_scale_exactly_or_are_refused(
            whole in proptest::prelude::any::<u64>(),
            suffix in 0usize..16,
            negative in proptest::prelude::any::<bool>(),
        ) {
            let names = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
            let name = names.get(suffix).copied().unwrap_or_default();
            let (ten, two) = multiplier(name).unwrap();
            let sign = if negative { "-" } else { "" };
            let parsed = Quantity::parse(&format!("{sign}{whole}{name}"));
            // Computed in another order: whole × 2^two × 10^(9 + ten).
            let exact = i128::from(whole)
                .checked_mul(1i128 << two)
                .and_then(|n| n.checked_mul(10i128.pow(u32::try_from(9 + ten).unwrap())))
                .filter(|n| *n <= MAX_NANOS as i128);
            match (parsed, exact) {
                (Ok(q), Some(n)) => proptest::prop_assert_eq!(q.nanos, if negative { -n } else { n }),
                (Err(e), None) => proptest::prop_assert!(matches!(e, QuantityError::OutOfRange(_)), "{}", e),
                (parsed, exact) => proptest::prop_assert!(false, "{:?} vs {:?}", parsed, exact),
            }
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "[-+0-9.eEnumkMGTPi]{0,60}") {
            if let Ok(q) = Quantity::parse(&text) {
                proptest::prop_assert!(q.nanos.unsigned_abs() <= MAX_NANOS);
                let _ = (q.ceil_units(), q.mebibytes());
            }
        }
    }

    #[test]
    fn malformed_quantities_are_refused() {
        for bad in [
            "", "Gi", "1.2.3", "1Gb", "1 Gi", "0x10", "1e", "1e+", "1e1.5", "1ee3", "e3", "--1",
            "+-1", "1Ki3", ".",
        ] {
            let error = Quantity::parse(bad).unwrap_err();
            assert_eq!(error, QuantityError::Malformed(bad.to_string()));
            assert!(!is_well_formed(bad), "{bad}");
        }
        let number = serde_json::json!(2);
        assert_eq!(Quantity::from_json(&number).unwrap().text, "2");
        let float = serde_json::json!(1e300);
        assert!(Quantity::from_json(&float).is_err());
        let error = Quantity::from_json(&serde_json::json!(true)).unwrap_err();
        assert_eq!(error.to_string(), "true is not a quantity");
    }

    #[test]
    fn a_gibibyte_is_1gi_as_written_and_as_an_amount() {
        let parsed = q("1Gi");
        assert_eq!(Quantity::gibibyte(), parsed);
        assert_eq!(Quantity::gibibyte().text, parsed.text);
    }
}
