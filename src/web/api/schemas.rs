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

/// A quoted passage of an article.
pub fn quote_text() -> Object {
    visible_text(crate::domain::quotes::MAX_QUOTE_CHARS, "The passage quoted.")
}

/// A text field of at most `max` characters, which may be empty, without control
/// characters but tab, carriage return and new line.
pub fn plain_text(max: usize, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .pattern(Some("^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]*$"))
        .description(Some(format!("{description} At most {max} characters, no control characters.")))
        .build()
}

/// Words to search for.
pub fn search_words() -> Object {
    query_words(200, "The words to look for; the first ten count.")
}

/// An http or https address as the site stores them: what the schema promises is always
/// one (a host of letters, digits, dots and hyphens; a plain path).
pub fn http_url() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(2000))
        .pattern(Some("^https?://([a-z0-9]+\\.)*[a-z][a-z0-9]*(/[A-Za-z0-9._~-]+)*/?$"))
        .description(Some("An http or https address."))
        .build()
}

/// An article's summary: 1 to 20 paragraphs.
pub fn paragraphs() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(visible_text(10_000, "A paragraph."))
        .min_items(Some(1))
        .max_items(Some(20))
        .build()
}

/// An article's key takeaways: at most 30.
pub fn takeaways() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new().items(visible_text(1_000, "A takeaway.")).max_items(Some(30)).build()
}

/// An article's tags: at most 10.
pub fn tags() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[a-z0-9_-]{1,40}$"))
                .description(Some("Letters, digits, '-' or '_'; at most 40.")),
        )
        .max_items(Some(10))
        .build()
}

/// A date an article may carry: `YYYY-MM-DD`, years 1900 to 2099.
pub fn article_date() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"))
        .description(Some("YYYY-MM-DD."))
        .build()
}

/// An article's title.
pub fn title() -> Object {
    visible_text(300, "The article's title.")
}

/// The name of an article's source.
pub fn source_name() -> Object {
    visible_text(100, "Who published it.")
}

/// An article's slug.
pub fn slug() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,5}$"))
        .description(Some("Lower-case letters and digits in words joined by single hyphens."))
        .build()
}

/// A page's title, for the article its first comment makes.
pub fn embed_title() -> Object {
    nullable(plain_text(300, "The page's title."))
}

/// A page's summary, for the article its first comment makes.
pub fn embed_summary() -> Object {
    nullable(plain_text(2000, "A summary of the page."))
}

/// Words in a query parameter: something besides spaces, no control characters.
pub fn query_words(max: usize, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some("^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"))
        .description(Some(format!("{description} At most {max} characters, no control characters.")))
        .build()
}

/// The address an article was imported with (`GET /api/v1/articles/by-url`).
pub fn source_address() -> Object {
    query_words(2000, "The article's source URL.")
}

/// Addresses of pages (`GET /api/v1/counts`): printable ASCII, as addresses are.
pub fn count_urls() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(COUNT_URL))
                .description(Some("An address: printable ASCII, at most 200 characters.")),
        )
        .max_items(Some(MAX_COUNTS))
        .build()
}

/// Slugs of articles (`GET /api/v1/counts`).
pub fn count_slugs() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String).pattern(Some(COUNT_SLUG)))
        .max_items(Some(MAX_COUNTS))
        .build()
}

/// Most `url`s, and most `slug`s, one counts request may name: what fits in a request
/// line however each is encoded.
pub const MAX_COUNTS: usize = 40;
pub const COUNT_URL: &str = "^[!-~]{1,200}$";
pub const COUNT_SLUG: &str = "^[a-z0-9-]{1,80}$";

/// A report: what is wrong, and details, which `other` needs.
pub fn new_report() -> utoipa::openapi::schema::OneOf {
    use utoipa::openapi::schema::OneOfBuilder;
    let reasons = |names: &[&str]| ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names.to_vec()));
    let named = ObjectBuilder::new()
        .property("reason", reasons(&["spam", "harassment", "off-topic", "misinformation"]))
        .property("details", nullable(report_details()))
        .required("reason")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
    let other = ObjectBuilder::new()
        .property("reason", reasons(&["other"]))
        .property("details", visible_text(crate::domain::Report::MAX_DETAILS, "What is wrong with it."))
        .required("reason")
        .required("details")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
    OneOfBuilder::new().item(named).item(other).build()
}

/// A moderator's reason (shown to the author and in the public log).
pub fn reason() -> Object {
    visible_text(crate::domain::ModReason::MAX_CHARS, "Why.")
}

/// An optional reason.
pub fn optional_reason() -> Object {
    nullable(plain_text(crate::domain::ModReason::MAX_CHARS, "Why (optional)."))
}

/// `schema`, or null (an optional field given as null counts as left out).
pub fn nullable(mut schema: Object) -> Object {
    use utoipa::openapi::schema::SchemaType;
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

/// An optional slug.
pub fn optional_slug() -> Object {
    nullable(slug())
}

/// A report's details.
pub fn report_details() -> Object {
    plain_text(crate::domain::Report::MAX_DETAILS, "What is wrong with it.")
}

/// An integer as JSON Schema counts one (see [`optional_integer`]), for a required field.
pub fn integer<'de, D>(deserializer: D) -> Result<i64, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    optional_integer(deserializer)?.ok_or_else(|| D::Error::custom("an integer is required"))
}

/// Names a request gives from a fixed list: an enum in the document, and only these
/// exact strings accepted.
macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)+
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                ObjectBuilder::new().schema_type(Type::String).enum_values(Some([$($text),+])).into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }
    };
}

names!(
    /// How long a ban lasts.
    BanName { Day = "1d", Week = "7d", Month = "30d", Permanent = "permanent" }
);
names!(
    /// An account's role.
    RoleName { Reader = "reader", Moderator = "moderator", Admin = "admin" }
);
names!(
    /// What is wrong with a comment.
    ReportName {
        Spam = "spam",
        Harassment = "harassment",
        OffTopic = "off-topic",
        Misinformation = "misinformation",
        Other = "other",
    }
);

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
