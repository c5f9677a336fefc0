//! Query strings: the decoded value of one parameter (`+` and `%XX` as in HTML forms).

/// The decoded value of `name` in a query string (`a=1&b=x%20y`).
pub fn parameter(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_parameters_are_decoded() {
        assert_eq!(super::parameter("a=1&symbol=IBM%20X&c", "symbol").as_deref(), Some("IBM X"));
        assert_eq!(super::parameter("a=1&c", "c").as_deref(), Some(""));
        assert_eq!(super::parameter("q=%zz%4", "q").as_deref(), Some("%zz%4"));
        assert_eq!(super::parameter("", "q"), None);
    }
}
