//! The two time formats SigV4 uses, from a `SystemTime` handed in by the caller.

use std::time::SystemTime;
use time::OffsetDateTime;

/// A time in the `x-amz-date` format, `YYYYMMDD'T'HHMMSS'Z'` (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmzDate([u8; 16]);

impl AmzDate {
    /// Formats `time` (UTC). Times before 1970 or after 9999 are clamped to those bounds.
    pub fn new(time: SystemTime) -> Self {
        // The signer imports nothing of the crate, so this is its own copy of the clamp in
        // `headers::clamped_utc`: 1970 ..= 9999-12-31T23:59:59, never a panic.
        let secs = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .min(253_402_300_799);
        let dt =
            OffsetDateTime::from_unix_timestamp(secs as i64).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let year = dt.year() as u32;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_past_9999_or_before_1970_are_clamped_not_a_panic() {
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(AmzDate::new(far).as_str(), "99991231T235959Z");
        let early = SystemTime::UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(AmzDate::new(early).as_str(), "19700101T000000Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        assert_eq!(AmzDate::new(t).as_str(), "20130524T000000Z");
    }
}
