//! Strings a YAML reader would resolve to a number or a timestamp: YAML 1.2's core schema, and
//! YAML 1.1's wider productions (underscores, base 60, radix prefixes, dates) that Go's YAML
//! reader (Argo CD, Flux) still applies. Syntax only: a string that merely looks like one is
//! quoted, even when its value could not be constructed.
//!
//! serde-saphyr's recognisers, kept to the letter (see [`super::plain`]).

/// Whether `text` has the syntax of a number (integer, float, `.inf`, `.nan`).
pub fn is_numeric(text: &str, yaml_12: bool) -> bool {
    if !matches!(
        text.as_bytes().first(),
        Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'_')
    ) {
        return false;
    }
    let unsigned = strip_sign(text);
    if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
        return true;
    }
    if !yaml_12 && (is_yaml11_sexagesimal(text) || is_yaml11_radix(unsigned)) {
        return true;
    }
    // Go's reader drops underscores before resolving numbers; YAML 1.2 keeps them.
    let normalized;
    let text = if !yaml_12 && text.contains('_') {
        normalized = text.replace('_', "");
        normalized.as_str()
    } else {
        text
    };
    is_number_syntax(text, yaml_12)
}

fn strip_sign(text: &str) -> &str {
    text.strip_prefix(['+', '-']).unwrap_or(text)
}

/// YAML 1.1's radix productions, which accept any run of digits and underscores.
fn is_yaml11_radix(unsigned: &str) -> bool {
    radix_digits(unsigned).is_some_and(|(radix, digits)| is_digit_run(digits, radix, false))
}

/// A radix-prefixed integer, or a decimal integer or float (underscores already dropped for
/// YAML 1.1).
fn is_number_syntax(text: &str, yaml_12: bool) -> bool {
    let unsigned = strip_sign(text);
    if let Some((radix, digits)) = radix_digits(unsigned) {
        // Go's fallback takes a sign after an unsigned lowercase 0b or 0o prefix.
        let digits = if !yaml_12 && (text.starts_with("0b") || text.starts_with("0o")) {
            strip_sign(digits)
        } else {
            digits
        };
        return is_digit_run(digits, radix, true);
    }
    let mantissa = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            if !is_digit_run(strip_sign(exponent), 10, true) {
                return false;
            }
            mantissa
        }
        None => unsigned,
    };
    match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            if !whole.is_empty() && !is_digit_run(whole, 10, true) {
                return false;
            }
            if !yaml_12 {
                fraction.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            } else if fraction.is_empty() {
                !whole.is_empty()
            } else {
                is_digit_run(fraction, 10, true)
            }
        }
        None => is_digit_run(mantissa, 10, true),
    }
}

fn radix_digits(text: &str) -> Option<(u32, &str)> {
    let radix = match text.as_bytes() {
        [b'0', b'b' | b'B', ..] => 2,
        [b'0', b'o' | b'O', ..] => 8,
        [b'0', b'x' | b'X', ..] => 16,
        _ => return None,
    };
    text.get(2..).map(|digits| (radix, digits))
}

/// A non-empty run of digits of `radix`; with `strict_underscores`, an underscore only between
/// two digits.
fn is_digit_run(text: &str, radix: u32, strict_underscores: bool) -> bool {
    let is_digit = |b: u8| b.is_ascii() && char::from(b).is_digit(radix);
    let bytes = text.as_bytes();
    let digit_at = |i: Option<usize>| i.and_then(|i| bytes.get(i)).is_some_and(|&b| is_digit(b));
    !bytes.is_empty()
        && bytes.iter().enumerate().all(|(i, &b)| {
            is_digit(b)
                || (b == b'_'
                    && (!strict_underscores
                        || (digit_at(i.checked_sub(1)) && digit_at(i.checked_add(1)))))
        })
}

/// YAML 1.1 base-60 integers and floats (`1:30`, `190:20:30.15`).
fn is_yaml11_sexagesimal(text: &str) -> bool {
    let unsigned = strip_sign(text);
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let Some((first, rest)) = integer.split_once(':') else {
        return false;
    };
    let Some(first_digit) = first.as_bytes().first() else {
        return false;
    };
    if !first_digit.is_ascii_digit()
        || (fraction.is_none() && *first_digit == b'0')
        || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let is_base_60_digit = |part: &str| match part.as_bytes() {
        [digit] => digit.is_ascii_digit(),
        [tens, units] => matches!(tens, b'0'..=b'5') && units.is_ascii_digit(),
        _ => false,
    };
    rest.split(':').all(is_base_60_digit)
        && fraction.is_none_or(|part| part.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

/// YAML 1.1 timestamps, as Go's reader accepts them (single-digit parts, a comma before the
/// fraction), without checking the calendar.
pub fn is_yaml11_timestamp(text: &str) -> bool {
    let mut rest = text;
    let date = digits(&mut rest, 4, 4)
        && prefix(&mut rest, '-')
        && digits(&mut rest, 1, 2)
        && prefix(&mut rest, '-')
        && digits(&mut rest, 1, 2);
    if !date {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    if let Some(after) = rest.strip_prefix(['T', 't']) {
        rest = after;
    } else {
        let after = rest.trim_start_matches([' ', '\t']);
        if after.len() == rest.len() {
            return false;
        }
        rest = after;
    }
    is_time_and_zone(rest)
}

/// `hh:mm:ss[.fraction][ zone]` of a timestamp.
fn is_time_and_zone(mut rest: &str) -> bool {
    let time = digits(&mut rest, 1, 2)
        && prefix(&mut rest, ':')
        && digits(&mut rest, 1, 2)
        && prefix(&mut rest, ':')
        && digits(&mut rest, 1, 2);
    if !time {
        return false;
    }
    if prefix(&mut rest, '.') || prefix(&mut rest, ',') {
        digits(&mut rest, 0, usize::MAX);
    }
    rest = rest.trim_start_matches([' ', '\t']);
    if rest.is_empty() || rest == "Z" {
        return true;
    }
    if !(prefix(&mut rest, '+') || prefix(&mut rest, '-')) || !digits(&mut rest, 1, 2) {
        return false;
    }
    if prefix(&mut rest, ':') && !digits(&mut rest, 2, 2) {
        return false;
    }
    rest.is_empty()
}

/// Consumes `min..=max` ASCII digits from the front of `rest`.
fn digits(rest: &mut &str, min: usize, max: usize) -> bool {
    let len = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !(min..=max).contains(&len) {
        return false;
    }
    *rest = rest.get(len..).unwrap_or_default();
    true
}

/// Consumes `ch` from the front of `rest`.
fn prefix(rest: &mut &str, ch: char) -> bool {
    match rest.strip_prefix(ch) {
        Some(after) => {
            *rest = after;
            true
        }
        None => false,
    }
}
