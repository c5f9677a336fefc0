//! The value-level parts of the XPath 1.0 core library: number ↔ string conversion and
//! the string and number functions, written to the Recommendation's exact rules (rounding
//! of `round` and `substring`, NaN and infinities, no exponents).

/// XPath `string(number)`: `NaN`, `Infinity`, `-Infinity`, `0` for both zeros, integers
/// without a decimal point, and otherwise the shortest decimal that reads back as the same
/// number, never in exponent notation.
pub fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if n == 0.0 {
        "0".to_string()
    } else {
        // Rust's Display for f64 is the shortest round-trip form and never uses exponents.
        format!("{n}")
    }
}

/// XPath `number(string)`: optional whitespace, an optional minus, digits with an optional
/// fraction, optional whitespace; anything else is NaN.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches([' ', '\t', '\r', '\n']);
    let digits = t.strip_prefix('-').unwrap_or(t);
    let mut seen_digit = false;
    let mut seen_dot = false;
    for b in digits.bytes() {
        match b {
            b'0'..=b'9' => seen_digit = true,
            b'.' if !seen_dot => seen_dot = true,
            _ => return f64::NAN,
        }
    }
    if !seen_digit {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// XPath `round`: the closest integer, ties towards positive infinity; -0 stays -0 and
/// values in [-0.5, 0) give -0.
pub(crate) fn round(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let f = x.floor();
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    if r == 0.0 && x < 0.0 {
        -0.0
    } else {
        r
    }
}

/// XPath `substring(s, start, len?)`: characters whose 1-based position p satisfies
/// `round(start) <= p < round(start) + round(len)`, with NaN comparisons false.
pub(crate) fn substring(s: &str, start: f64, len: Option<f64>) -> String {
    let first = round(start);
    let end = match len {
        Some(l) => first + round(l),
        None => f64::INFINITY,
    };
    if first.is_nan() || end.is_nan() || end <= first {
        return String::new();
    }
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        let p = (i + 1) as f64;
        if p >= end {
            break;
        }
        if p >= first {
            out.push(c);
        }
    }
    out
}

pub(crate) fn substring_before<'a>(s: &'a str, t: &str) -> &'a str {
    match s.find(t) {
        Some(i) => &s[..i],
        None => "",
    }
}

pub(crate) fn substring_after<'a>(s: &'a str, t: &str) -> &'a str {
    match s.find(t) {
        Some(i) => &s[i + t.len()..],
        None => "",
    }
}

pub(crate) fn normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

pub(crate) fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|&f| f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

/// `lang()`: does the language `have` (an `xml:lang` value) match `want`?
pub(crate) fn lang_matches(have: &str, want: &str) -> bool {
    let have = have.as_bytes();
    let want = want.as_bytes();
    have.len() >= want.len()
        && have[..want.len()].eq_ignore_ascii_case(want)
        && (have.len() == want.len() || have[want.len()] == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_to_strings() {
        assert_eq!(number_to_string(f64::NAN), "NaN");
        assert_eq!(number_to_string(f64::INFINITY), "Infinity");
        assert_eq!(number_to_string(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(number_to_string(-0.0), "0");
        assert_eq!(number_to_string(1.0), "1");
        assert_eq!(number_to_string(-42.0), "-42");
        assert_eq!(number_to_string(0.5), "0.5");
        assert_eq!(number_to_string(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number_to_string(1e21), "1000000000000000000000");
        assert_eq!(number_to_string(1e-7), "0.0000001");
        assert_eq!(number_to_string(123456789012.5), "123456789012.5");
    }

    #[test]
    fn strings_to_numbers() {
        assert_eq!(string_to_number(" 12 "), 12.0);
        assert_eq!(string_to_number("-1.5"), -1.5);
        assert_eq!(string_to_number(".5"), 0.5);
        assert_eq!(string_to_number("5."), 5.0);
        for bad in ["", " ", "+1", "1e3", "0x10", "1.2.3", "-", ".", "Infinity", "NaN", "1 2", "--1"] {
            assert!(string_to_number(bad).is_nan(), "{bad}");
        }
        assert!(string_to_number("-0").is_sign_negative());
    }

    #[test]
    fn rounding() {
        assert_eq!(round(2.5), 3.0);
        assert_eq!(round(-2.5), -2.0);
        assert!(round(-0.5).is_sign_negative() && round(-0.5) == 0.0);
        assert!(round(-0.2).is_sign_negative());
        assert_eq!(round(0.49999999999999994), 0.0);
        assert!(round(f64::NAN).is_nan());
        assert_eq!(round(f64::INFINITY), f64::INFINITY);
        assert_eq!(round(4503599627370497.0), 4503599627370497.0);
    }

    #[test]
    fn substrings() {
        assert_eq!(substring("12345", 1.5, Some(2.6)), "234");
        assert_eq!(substring("12345", 0.0, Some(3.0)), "12");
        assert_eq!(substring("12345", f64::NAN, Some(3.0)), "");
        assert_eq!(substring("12345", 1.0, Some(f64::NAN)), "");
        assert_eq!(substring("12345", -42.0, Some(f64::INFINITY)), "12345");
        assert_eq!(substring("12345", f64::NEG_INFINITY, Some(f64::INFINITY)), "");
        assert_eq!(substring("12345", 2.0, None), "2345");
        assert_eq!(substring("ébc", 2.0, Some(1.0)), "b");
        assert_eq!(translate("--aaa--", "abc-", "ABC"), "AAA");
        assert_eq!(normalize_space("  a \n b\t"), "a b");
        assert!(lang_matches("en-GB", "EN"));
        assert!(!lang_matches("english", "en"));
    }
}
