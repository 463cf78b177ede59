//! File modification times: read from the host's RFC 3339 text as Go's `time.Time` reads it,
//! written as `t.UTC().Format("2006-01-02 15:04:05")` for a file block.

/// A modification time in UTC, or none (Go's zero `time.Time`, which a block leaves out).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp(Option<Utc>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Utc {
    days: i64, // since 1970-01-01
    secs: i64, // of the day, 0..86400
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day since 1970-01-01 (civil_from_days).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// Days since 1970-01-01 of 0001-01-01, Go's zero time.
const ZERO_DAYS: i64 = -719162;

impl Stamp {
    /// Reads RFC 3339 text (`2026-01-02T03:04:05Z`, fractions and offsets allowed). Text that
    /// is not a time reads as none.
    pub fn parse(s: &str) -> Stamp {
        let b = s.as_bytes();
        let num = |from: usize, n: usize| -> Option<i64> {
            let d = b.get(from..from + n)?;
            d.iter().try_fold(0i64, |v, c| if c.is_ascii_digit() { Some(v * 10 + (c - b'0') as i64) } else { None })
        };
        let parsed = (|| {
            if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
                return None;
            }
            let (y, mo, d, h, mi, sec) = (num(0, 4)?, num(5, 2)?, num(8, 2)?, num(11, 2)?, num(14, 2)?, num(17, 2)?);
            if !(1..=12).contains(&mo) || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
                return None;
            }
            let mut i = 19;
            let mut frac = false;
            if b[i] == b'.' {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    frac |= b[i] != b'0';
                    i += 1;
                }
                if i == start {
                    return None;
                }
            }
            let offset = match b.get(i)? {
                b'Z' | b'z' if i + 1 == b.len() => 0,
                c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
                    let o = num(i + 1, 2)? * 3600 + num(i + 4, 2)? * 60;
                    if *c == b'-' {
                        -o
                    } else {
                        o
                    }
                }
                _ => return None,
            };
            let total = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
            Some((Utc { days: total.div_euclid(86400), secs: total.rem_euclid(86400) }, frac))
        })();
        match parsed {
            Some((u, frac)) if frac || u.days != ZERO_DAYS || u.secs != 0 => Stamp(Some(u)),
            _ => Stamp(None),
        }
    }

    /// `t.UTC().Format("2006-01-02 15:04:05")`, or `None` for the zero time.
    pub fn format(&self) -> Option<String> {
        let u = self.0?;
        let (y, m, d) = civil_from_days(u.days);
        Some(format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", u.secs / 3600, u.secs / 60 % 60, u.secs % 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_utc() {
        for (text, want) in [
            ("2026-01-02T03:04:05Z", Some("2026-01-02 03:04:05")),
            ("2026-01-02T03:04:05.999Z", Some("2026-01-02 03:04:05")),
            ("2026-01-01T23:30:00-01:00", Some("2026-01-02 00:30:00")),
            ("2024-03-01T00:30:00+01:00", Some("2024-02-29 23:30:00")),
            ("1970-01-01T00:00:00Z", Some("1970-01-01 00:00:00")),
            ("0001-01-01T00:00:00Z", None),
            ("0001-01-01T01:00:00+01:00", None),
            ("0001-01-01T00:00:00.5Z", Some("0001-01-01 00:00:00")),
            ("", None),
            ("yesterday", None),
        ] {
            assert_eq!(Stamp::parse(text).format().as_deref(), want, "{text}");
        }
    }
}
