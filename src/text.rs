//! Rules for text a reader types, shared by every field: control characters that no
//! field may hold, and text that shows nothing.

/// A character no text field may hold: the C0 controls except tab, new line and
/// carriage return, and DEL. PostgreSQL cannot store NUL at all; the others have no
/// place in a page either.
pub fn is_forbidden_control(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// The first forbidden control character in `value`, if any.
pub fn forbidden_control(value: &str) -> Option<char> {
    value.chars().find(|c| is_forbidden_control(*c))
}

/// The message for a field that holds a forbidden control character.
pub fn control_message(field: &str, c: char) -> String {
    format!(
        "The field “{field}” contains a control character (U+{:04X}), which cannot be stored. Remove it and try again.",
        c as u32
    )
}

/// A character that shows nothing by itself: white space, zero-width and
/// direction-control characters, soft hyphens, fillers, variation selectors and
/// combining marks (which only change the character before them).
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
                // Combining marks.
                | '\u{0300}'..='\u{036F}'
                | '\u{0483}'..='\u{0489}'
                | '\u{1AB0}'..='\u{1AFF}'
                | '\u{1DC0}'..='\u{1DFF}'
                | '\u{20D0}'..='\u{20FF}'
                | '\u{FE20}'..='\u{FE2F}'
        )
}

/// The characters [`is_invisible`] names, as ranges (kept beside it: a test compares
/// the two over every character).
const INVISIBLE_RANGES: &[(char, char)] = &[
    ('\u{0}', ' '),
    ('\u{7F}', '\u{A0}'),
    ('\u{AD}', '\u{AD}'),
    ('\u{300}', '\u{36F}'),
    ('\u{483}', '\u{489}'),
    ('\u{34F}', '\u{34F}'),
    ('\u{61C}', '\u{61C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{1AB0}', '\u{1AFF}'),
    ('\u{1DC0}', '\u{1DFF}'),
    ('\u{2000}', '\u{200F}'),
    ('\u{2028}', '\u{202F}'),
    ('\u{205F}', '\u{206F}'),
    ('\u{20D0}', '\u{20FF}'),
    ('\u{2800}', '\u{2800}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FE20}', '\u{FE2F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// A regular expression (JSON Schema's, ECMA-262 with Unicode, as Python and Rust read
/// it too) for the text a form takes: no forbidden control character, and at least one
/// character that is not invisible: what [`forbidden_control`] and [`is_blank`] refuse,
/// so that an API document can say exactly what is accepted.
pub fn visible_text_pattern() -> String {
    fn class_char(c: char, out: &mut String) {
        if c.is_ascii() {
            out.push_str(&format!("\\x{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    let mut invisible = String::new();
    for (from, to) in INVISIBLE_RANGES {
        class_char(*from, &mut invisible);
        if from != to {
            invisible.push('-');
            class_char(*to, &mut invisible);
        }
    }
    let allowed = "[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]*";
    format!("^{allowed}[^{invisible}]{allowed}$")
}

/// True when `value` has nothing a reader could see: empty, or only invisible
/// characters. Such a value is refused like an empty one.
pub fn is_blank(value: &str) -> bool {
    value.chars().all(is_invisible)
}

/// A count with its noun: "1 second", "2 seconds", "0 comments", "-1 point". Every
/// count the site writes out goes through here.
pub fn plural(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    if n == 1 || n == -1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `text` as a sentence: a full stop added unless it already ends with one (or with
/// "!", "?" or "…"), so that a reason that ends with "." is not followed by another.
pub fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() || text.ends_with(['.', '!', '?', '…']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls() {
        assert_eq!(forbidden_control("a\0b"), Some('\0'));
        assert_eq!(forbidden_control("a\u{1b}[31m"), Some('\u{1b}'));
        assert_eq!(forbidden_control("del\u{7f}"), Some('\u{7f}'));
        assert_eq!(forbidden_control("tab\there\r\nline"), None);
        assert_eq!(forbidden_control("ünïcode ✓"), None);
        assert!(control_message("body", '\0').contains("“body”"));
    }

    #[test]
    fn the_visible_text_pattern_says_what_is_refused() {
        let pattern = regex::Regex::new(&visible_text_pattern()).unwrap();
        // Every character alone: visible exactly when the pattern takes it.
        let mut buf = [0u8; 4];
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let one: &str = c.encode_utf8(&mut buf);
            assert_eq!(pattern.is_match(one), !is_blank(one), "{:?}", c);
            let with = format!("a{c}b");
            assert_eq!(pattern.is_match(&with), forbidden_control(&with).is_none(), "{:?} inside", c);
        }
        assert!(pattern.is_match("  line one\r\n\tline two  "));
        assert!(!pattern.is_match(" \u{200B}\u{0301} "));
    }

    #[test]
    fn blank_text() {
        for blank in [
            "",
            "   ",
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}\u{200E}\u{200F}",
            "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}",
            "\u{2060}\u{2061}\u{2062}\u{2063}\u{2064}",
            "\u{2066}\u{2067}\u{2068}\u{2069}",
            "\u{FEFF} \u{00AD}",
            "\u{0301}\u{0308}",
            "\u{3164}\u{FE0F}",
        ] {
            assert!(is_blank(blank), "{blank:?} is blank");
        }
        for visible in ["a", "\u{200B}a", "e\u{0301}", "ّ🙂", "日本", "\u{202E}txt.exe"] {
            assert!(!is_blank(visible), "{visible:?} shows something");
        }
    }

    #[test]
    fn counts_and_sentences() {
        assert_eq!(plural(1, "second", "seconds"), "1 second");
        assert_eq!(plural(2, "second", "seconds"), "2 seconds");
        assert_eq!(plural(0, "comment", "comments"), "0 comments");
        assert_eq!(plural(-1, "point", "points"), "-1 point");
        assert_eq!(sentence("Spam"), "Spam.");
        assert_eq!(sentence("Spam."), "Spam.");
        assert_eq!(sentence("Why?  "), "Why?");
    }
}
