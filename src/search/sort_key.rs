//! The natural, case-insensitive order as plain text, so that a database can sort and
//! page a search by it: `File 2` before `file 10`.

/// Which ASCII letters (bit 0 for `a`, in any case) and digits (bit 26 for `0`) a name
/// holds once lower-cased (the Kelvin sign is a `k`, as the trigram index folds it): a
/// one-letter search is counted from these.
pub fn letters(name: &str) -> i64 {
    name.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| u8::try_from(c).ok())
        .fold(0, |mask, b| mask | letter_bit(b).unwrap_or(0))
}

/// The bit of one ASCII letter or digit.
pub fn letter_bit(b: u8) -> Option<i64> {
    match b.to_ascii_lowercase() {
        b @ b'a'..=b'z' => Some(1 << (b - b'a')),
        b @ b'0'..=b'9' => Some(1 << (26 + b - b'0')),
        _ => None,
    }
}

/// Leading zeros do not count (`IMG_0100` after `img_99`, as file managers sort). The
/// name lower-cased, each run of digits written as its length (two digits) and then
/// the digits without leading zeros: `2` is `012`, `10` is `0210`, and byte order is
/// natural order.
pub fn sort_key(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut key = String::with_capacity(lower.len() + 8);
    let mut chars = lower.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_digit() {
            key.push(c);
            continue;
        }
        let mut run = String::from(c);
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            run.push(d);
            chars.next();
        }
        let digits = match run.trim_start_matches('0') {
            "" => "0",
            digits => digits,
        };
        // Runs of more than 99 digits keep their digits; only their length saturates.
        key.push_str(&format!("{:02}", digits.len().min(99)));
        key.push_str(digits);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::sort_key;

    #[test]
    fn sorts_like_natord_ignoring_case() {
        let mut names = vec![
            "file 10.txt",
            "File 2.txt",
            "file 1.txt",
            "a",
            "B",
            "file 02b",
            "IMG_0100",
            "img_99",
        ];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(
            names,
            vec![
                "a",
                "B",
                "file 1.txt",
                "File 2.txt",
                "file 02b",
                "file 10.txt",
                "img_99",
                "IMG_0100",
            ]
        );
    }
}
