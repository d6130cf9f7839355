//! JSON that two parsers could read differently is refused: a key repeated in
//! an object, at any depth (`{"amount_sats":1000,"amount_sats":2000}`: one
//! parser takes the first, another the last). Pure: no I/O.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Whether `body` is one JSON value with no key repeated in any of its
/// objects; the reason when not (serde_json's words, with line and column).
/// Keys are compared after unescaping: `"a"` and `"\u0061"` are the same key.
pub fn check(body: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<Strict>(body)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A JSON value that has been walked and found without repeated keys.
struct Strict;

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

/// Walks any value, objects and arrays included.
struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        while seq.next_element::<Strict>()?.is_some() {}
        Ok(Strict)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("key {key:?} is repeated in an object")));
            }
            map.next_value::<Strict>()?;
        }
        Ok(Strict)
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        for body in [
            r#"{"amount_sats":1000,"amount_sats":2000}"#,
            r#"{"a":1,"metadata":{"x":1,"x":2}}"#,
            r#"{"metadata":{"list":[{"k":1},{"k":1,"k":2}]}}"#,
            r#"[{"a":1,"a":1}]"#,
            r#"{"a":1,"\u0061":2}"#,
        ] {
            let err = check(body.as_bytes()).expect_err(body);
            assert!(err.contains("repeated"), "{body}: {err}");
        }
    }

    #[test]
    fn json_without_repeats_passes_and_broken_json_does_not() {
        for body in [
            r#"{"amount_sats":1000}"#,
            r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":1}]}"#,
            "[]",
            "1",
            r#""x""#,
            r#"{"a":null,"b":true,"c":-1.5e3}"#,
        ] {
            assert_eq!(check(body.as_bytes()), Ok(()), "{body}");
        }
        for body in ["", "{", r#"{"a":1}x"#, "{'a':1}", "[1,]"] {
            assert!(check(body.as_bytes()).is_err(), "{body}");
        }
    }
}
