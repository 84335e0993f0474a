//! Durations as people write them on command lines and in role files: `500ms`, `90s`, `10m`,
//! `1h30m`, `1.5h`, `2 min`, `7d`, `2w`, or a bare number of seconds. One parser for every
//! command, so `--timeout 1h30m` means the same wherever it is accepted.

use std::fmt;
use std::time::Duration;

/// Text that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDuration(pub String);

impl fmt::Display for InvalidDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a duration; write e.g. 500ms, 90s, 10m, 1h30m, 2d or a number of seconds",
            self.0
        )
    }
}

impl std::error::Error for InvalidDuration {}

/// Parses a duration: number-unit pairs (`ms`, `s`, `m`, `h`, `d`, `w` and their longer
/// spellings), or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, InvalidDuration> {
    let invalid = || InvalidDuration(text.to_string());
    let trimmed = text.trim();
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return if seconds.is_finite() && seconds >= 0.0 {
            Ok(Duration::from_secs_f64(seconds))
        } else {
            Err(invalid())
        };
    }
    if trimmed.is_empty() {
        return Err(invalid());
    }
    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .filter(|end| *end > 0)
            .ok_or_else(invalid)?;
        let amount: f64 = rest[..digits_end].parse().map_err(|_| invalid())?;
        rest = rest[digits_end..].trim_start();
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_end] {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "week" | "weeks" => 604_800.0,
            _ => return Err(invalid()),
        };
        rest = rest[unit_end..].trim_start();
        total += Duration::try_from_secs_f64(amount * seconds_per_unit).map_err(|_| invalid())?;
    }
    Ok(total)
}

/// The inverse, for display: `1h30m`, `10m`, `90s` is shown as `1m30s`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if !millis.is_multiple_of(1000) {
        return format!("{millis}ms");
    }
    let seconds = duration.as_secs();
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut text = String::new();
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || text.is_empty() {
        text.push_str(&format!("{seconds}s"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_forms() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2 min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for text in [
            "",
            "ten minutes",
            "10 parsecs",
            "m",
            "10m5",
            "-5s",
            "-3",
            "NaN",
        ] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["1h30m", "10m", "1m30s", "500ms", "0s", "2h"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}
