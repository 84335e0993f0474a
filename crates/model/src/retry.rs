//! When and how long to wait before sending a request again.
//!
//! Transient failures (connection errors, 429, 5xx, a stream cut off or gone silent) are retried
//! with exponential backoff and jitter, unless the server said how long to wait (`Retry-After` in
//! seconds or as an HTTP date, or `retry-after-ms`), in which case that wins.

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// Backoff for the first retry; each later one doubles it.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(200);
/// No computed backoff is longer than this.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(20);
/// A server asking for a longer wait than this is not trusted further.
const MAX_SERVER_DELAY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: DEFAULT_BASE_DELAY,
            max: DEFAULT_MAX_DELAY,
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1-based): `base * 2^(retry-1)`, scaled by a random
    /// factor in [0.8, 1.2) so clients that failed together do not retry together, then capped.
    pub fn delay(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(30);
        let nominal = self.base.saturating_mul(1u32 << exponent).min(self.max);
        let jitter: f64 = rand::random_range(0.8..1.2);
        nominal.mul_f64(jitter).min(self.max)
    }
}

/// HTTP statuses worth sending again.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504 | 529)
}

/// How long the server asked us to wait, from `retry-after-ms` or `Retry-After`.
pub fn server_requested_delay(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(millis) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && millis.is_finite()
        && millis >= 0.0
    {
        return Some(Duration::from_secs_f64(millis / 1000.0).min(MAX_SERVER_DELAY));
    }
    header("retry-after").and_then(parse_retry_after)
}

/// `Retry-After` is either a number of seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds).min(MAX_SERVER_DELAY));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(MAX_SERVER_DELAY),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let backoff = Backoff::default();
        for _ in 0..50 {
            let first = backoff.delay(1);
            assert!(first >= Duration::from_millis(160) && first < Duration::from_millis(240));
            let third = backoff.delay(3);
            assert!(third >= Duration::from_millis(640) && third < Duration::from_millis(960));
            assert!(backoff.delay(20) <= DEFAULT_MAX_DELAY);
            assert!(backoff.delay(u32::MAX) <= DEFAULT_MAX_DELAY);
        }
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past means retry now"
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let delay = parse_retry_after(&future).expect("a valid date");
        assert!(delay > Duration::from_secs(25) && delay <= Duration::from_secs(30));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("100000"), Some(MAX_SERVER_DELAY));
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(
            server_requested_delay(&headers),
            Some(Duration::from_secs(7))
        );
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(
            server_requested_delay(&headers),
            Some(Duration::from_millis(250))
        );
        assert_eq!(server_requested_delay(&HeaderMap::new()), None);
    }

    #[test]
    fn only_rate_limits_timeouts_and_server_errors_are_transient() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_transient_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 422, 501] {
            assert!(!is_transient_status(status), "{status}");
        }
    }
}
