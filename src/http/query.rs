//! Query-string checks shared by the listing routes: unknown parameters
//! refused, a bounded `limit`, typed filters; every failure `400
//! invalid_query` naming the parameter.

use std::collections::HashMap;

use super::error::ApiError;

/// A refusal of parameter `field`.
pub fn bad(field: &str, message: &str) -> ApiError {
    ApiError::field("invalid_query", field, message)
}

/// Refuses a parameter not in `allowed` (a typo is not silently ignored).
pub fn only(query: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match query.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(bad(unknown, "unknown query parameter")),
        None => Ok(()),
    }
}

/// `limit`: `default` when absent, else an integer from 1 to `max`.
pub fn limit(query: &HashMap<String, String>, default: usize, max: usize) -> Result<usize, ApiError> {
    match query.get("limit") {
        None => Ok(default),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| bad("limit", &format!("limit must be an integer from 1 to {max}"))),
    }
}

/// Parameter `name` read by `parse`, `None` when absent; `message` when it does not read.
pub fn parsed<T>(
    query: &HashMap<String, String>,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
    message: &str,
) -> Result<Option<T>, ApiError> {
    query
        .get(name)
        .map(|v| parse(v).ok_or_else(|| bad(name, message)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn unknown_parameters_and_bad_limits_are_refused_naming_the_parameter() {
        assert_eq!(
            only(&q(&[("limt", "5")]), &["limit"]).unwrap_err().field.as_deref(),
            Some("limt")
        );
        assert_eq!(limit(&q(&[]), 50, 500), Ok(50));
        assert_eq!(limit(&q(&[("limit", "500")]), 50, 500), Ok(500));
        for bad_limit in ["0", "501", "-1", "x", ""] {
            assert_eq!(
                limit(&q(&[("limit", bad_limit)]), 50, 500).unwrap_err().code,
                "invalid_query"
            );
        }
        assert_eq!(
            parsed(&q(&[("n", "7")]), "n", |s| s.parse::<u8>().ok(), "a number"),
            Ok(Some(7))
        );
        assert_eq!(parsed(&q(&[]), "n", |s| s.parse::<u8>().ok(), "a number"), Ok(None));
        assert!(parsed(&q(&[("n", "x")]), "n", |s| s.parse::<u8>().ok(), "a number").is_err());
    }
}
