//! The two time formats SigV4 uses, from a `SystemTime` handed in by the caller.

use std::time::SystemTime;
use time::OffsetDateTime;

/// A time in the `x-amz-date` format, `YYYYMMDD'T'HHMMSS'Z'` (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmzDate([u8; 16]);

impl AmzDate {
    /// Formats `time` (UTC). Times before 1970 or after 9999 are clamped to those bounds.
    pub fn new(time: SystemTime) -> Self {
        let dt = OffsetDateTime::from(time);
        let year = dt.year().clamp(0, 9999) as u32;
        let mut b = [0u8; 16];
        write_digits(&mut b[0..4], year);
        write_digits(&mut b[4..6], u8::from(dt.month()) as u32);
        write_digits(&mut b[6..8], dt.day() as u32);
        b[8] = b'T';
        write_digits(&mut b[9..11], dt.hour() as u32);
        write_digits(&mut b[11..13], dt.minute() as u32);
        write_digits(&mut b[13..15], dt.second() as u32);
        b[15] = b'Z';
        AmzDate(b)
    }

    /// Reads a timestamp in the `x-amz-date` format back (`YYYYMMDD'T'HHMMSS'Z'`).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let b: [u8; 16] = text.as_bytes().try_into().ok()?;
        let digits = b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
        (digits && b[8] == b'T' && b[15] == b'Z').then_some(AmzDate(b))
    }

    /// The full timestamp, e.g. `20130524T000000Z`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, 'T' and 'Z' are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The date part, e.g. `20130524`.
    pub fn date(&self) -> &str {
        std::str::from_utf8(&self.0[..8]).unwrap_or_default()
    }

    pub(crate) fn date_bytes(&self) -> [u8; 8] {
        let mut d = [0u8; 8];
        d.copy_from_slice(&self.0[..8]);
        d
    }
}

fn write_digits(out: &mut [u8], mut v: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}
