//! The value parsers of the listing scanner (`scan.rs`): references, `encoding-type=url`
//! escapes, sizes and dates, each by hand for the shapes S3 sends and, for numbers and dates,
//! by the reference parser's own function otherwise.

use std::time::{Duration, SystemTime};

use super::reader::{parse_date, parse_u64};

/// The longest entity or character reference name expanded (`#x10FFFF` is 8).
const MAX_REF_NAME: usize = 10;

/// Checks (`out` `None`) or expands into `out` the references in `text`: the five predefined
/// entities and character references, as the reference expands them; `None` for anything
/// else (an unknown entity, a lone `&`, `&#0;`, a code point that is not a character).
pub(super) fn unescape(text: &[u8], mut out: Option<&mut Vec<u8>>) -> Option<()> {
    let mut rest = text;
    while let Some(amp) = rest.iter().position(|b| *b == b'&') {
        let after = &rest[amp + 1..];
        let len = after
            .iter()
            .take(MAX_REF_NAME + 1)
            .position(|b| *b == b';')?;
        let ch = match &after[..len] {
            b"amp" => '&',
            b"lt" => '<',
            b"gt" => '>',
            b"quot" => '"',
            b"apos" => '\'',
            [b'#', b'x', hex @ ..] => char_ref(hex, 16)?,
            [b'#', dec @ ..] => char_ref(dec, 10)?,
            _ => return None,
        };
        if let Some(out) = out.as_deref_mut() {
            out.extend_from_slice(&rest[..amp]);
            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
        }
        rest = &after[len + 1..];
    }
    if let Some(out) = out {
        out.extend_from_slice(rest);
    }
    Some(())
}

/// The character of a reference's digits (at most 8, so no overflow); not for 0 or a code
/// point that is not a character, as the reference refuses those.
fn char_ref(digits: &[u8], radix: u32) -> Option<char> {
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let code = digits.iter().try_fold(0u32, |acc, d| {
        Some(acc * radix + char::from(*d).to_digit(radix)?)
    })?;
    if code == 0 {
        return None;
    }
    char::from_u32(code)
}

/// A `Size`: plain digits by hand, anything else by the reference's parser.
pub(super) fn size(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if (1..=19).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')));
    }
    parse_u64(text, "Size").ok()
}

/// A `LastModified`: `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.fffZ` from 1970 on by
/// hand, anything else by the reference's parser.
pub(super) fn date(text: &str) -> Option<SystemTime> {
    fast_date(text.as_bytes()).or_else(|| parse_date(text, "LastModified").ok())
}

/// The hand-written date parser of [`date`]; `None` for any other shape or an impossible date.
pub(super) fn fast_date(b: &[u8]) -> Option<SystemTime> {
    let millis = match b.len() {
        20 if b[19] == b'Z' => 0,
        24 if b[19] == b'.' && b[23] == b'Z' => digits(&b[20..23])?,
        _ => return None,
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if year < 1970
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let secs =
        days_since_epoch(year, month, day) * 86_400 + u64::from(hour * 3600 + minute * 60 + second);
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, millis * 1_000_000))
}

/// The value of ASCII decimal digits (at most 4 here).
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
    })
}

/// Whether `year` is a leap year of the Gregorian calendar.
fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// The number of days in `month` (1-12) of `year`.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date (year 1970 or later, a valid date).
fn days_since_epoch(year: u32, month: u32, day: u32) -> u64 {
    /// Days of the year before the first of each month, in a common year.
    const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    // Whole years (leap days of the years before `year`), then the months of this year.
    let leaps = |y: u32| y / 4 - y / 100 + y / 400;
    let y = year - 1;
    let mut days = u64::from(year - 1970) * 365 + u64::from(leaps(y) - leaps(1969));
    days += u64::from(BEFORE[(month - 1) as usize] + day - 1);
    if month > 2 && is_leap(year) {
        days += 1;
    }
    days
}

/// The value of one ASCII hex digit.
pub(super) fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Where the text that starts at `from` ends (its first `<`), and whether it holds a `&` or a
/// `\r` (which need the slow path); `None` when no `<` follows.
pub(super) fn text_end(src: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut special = false;
    let mut i = from;
    loop {
        let found = find_special(src, i)?;
        if src[found] == b'<' {
            return Some((found, special));
        }
        special = true;
        i = found + 1;
    }
}

/// The first `<`, `&` or `\r` at or after `from`, eight bytes at a time.
pub(super) fn find_special(src: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // The bytes of `w` equal to `b`, marked by their high bit. A borrow can only mark bytes
    // after a true match, so the lowest mark is exact, and it is the only one used.
    let marks = |w: u64, b: u8| {
        let x = w ^ (ONES * u64::from(b));
        x.wrapping_sub(ONES) & !x & HIGH
    };
    let mut i = from;
    while let Some(chunk) = src.get(i..i + 8) {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
        let m = marks(w, b'<') | marks(w, b'&') | marks(w, b'\r');
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let n = src
        .get(i..)?
        .iter()
        .position(|b| matches!(b, b'<' | b'&' | b'\r'))?;
    Some(i + n)
}
