//! Schemas that say exactly what a handler takes, where a derived one cannot: text
//! fields refuse control characters and text that shows nothing (`crate::text`), and
//! the document says so with a pattern, so that a client (or Schemathesis) that follows
//! the document is never refused, and one that does not is.

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::Object;

/// A text field of at most `max` characters that must show something.
pub fn visible_text(max: usize, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(crate::text::visible_text_pattern()))
        .description(Some(format!(
            "{description} At most {max} characters; something visible (not only spaces or invisible characters), \
             and no control characters but tab, carriage return and new line."
        )))
        .build()
}

/// A comment's Markdown (`NewComment::body`, and any edit of it).
pub fn comment_body() -> Object {
    visible_text(crate::domain::CommentBody::MAX_CHARS, "Markdown.")
}

/// An optional integer as JSON Schema counts one: `3`, and `3.0` too (JSON has one kind
/// of number; a client may send any integral one). For `#[serde(default,
/// deserialize_with = …)]` on an `Option<i64>` field; anything else is refused.
pub fn optional_integer<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    use serde::Deserialize;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else { return Ok(None) };
    let integral =
        number.as_i64().or_else(|| number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18).map(|f| f as i64));
    integral.map(Some).ok_or_else(|| D::Error::custom(format!("{number} is not an integer")))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Form {
        #[serde(default, deserialize_with = "super::optional_integer")]
        id: Option<i64>,
    }

    #[test]
    fn integers_as_json_schema_counts_them() {
        let id = |json: &str| serde_json::from_str::<Form>(json).map(|f| f.id);
        assert_eq!(id(r#"{"id": 3}"#).unwrap(), Some(3));
        assert_eq!(id(r#"{"id": 3.0}"#).unwrap(), Some(3));
        assert_eq!(id(r#"{"id": -2e3}"#).unwrap(), Some(-2000));
        assert_eq!(id(r#"{"id": null}"#).unwrap(), None);
        assert_eq!(id(r#"{}"#).unwrap(), None);
        for bad in [r#"{"id": 3.5}"#, r#"{"id": 1e300}"#, r#"{"id": "3"}"#, r#"{"id": true}"#] {
            assert!(id(bad).is_err(), "{bad}");
        }
    }
}
