//! What a comment quotes of its article: one of its key takeaways, or a passage of its
//! summary.
//!
//! A quote keeps where it was (the takeaway's position, or the summary sentence it
//! starts in) and its text as it was when the comment was posted. When an article is
//! edited later, the quote still shows that text, marked as changed when the article no
//! longer says it there.
//!
//! Positions are counted from 0 here and in the database; pages, forms and the API
//! number takeaways and sentences from 1, as a reader counts them.

/// Longest summary passage one comment may quote, in characters.
pub const MAX_QUOTE_CHARS: usize = 500;

/// What is quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteKind {
    Takeaway,
    Summary,
}

impl QuoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteKind::Takeaway => "takeaway",
            QuoteKind::Summary => "summary",
        }
    }

    pub fn parse(raw: &str) -> Option<QuoteKind> {
        match raw {
            "takeaway" => Some(QuoteKind::Takeaway),
            "summary" => Some(QuoteKind::Summary),
            _ => None,
        }
    }
}

/// A quote as stored with its comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub kind: QuoteKind,
    /// The takeaway's position, or the summary sentence the passage starts in (from 0).
    pub position: i32,
    /// The text as it was when quoted.
    pub text: String,
}

/// A quote as a page shows it: with whether the article says something else there now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownQuote {
    pub quote: Quote,
    pub changed: bool,
    /// The quoted article's slug, for the link back to the passage.
    pub article_slug: String,
}

impl ShownQuote {
    /// A request for this same quote.
    pub fn request(&self) -> QuoteRequest {
        self.quote.request()
    }

    /// The quoted passage on its article's page.
    pub fn link(&self) -> String {
        format!("/articles/{}#{}", self.article_slug, self.quote.anchor())
    }

    /// What is quoted, as a reader names it: "Takeaway 2", "The summary".
    pub fn label(&self) -> String {
        match self.quote.kind {
            QuoteKind::Takeaway => format!("Takeaway {}", self.quote.position + 1),
            QuoteKind::Summary => "The summary".to_owned(),
        }
    }
}

impl Quote {
    /// The anchor of the quoted passage on the article's page.
    pub fn anchor(&self) -> String {
        match self.kind {
            QuoteKind::Takeaway => format!("takeaway-{}", self.position + 1),
            QuoteKind::Summary => format!("sentence-{}", self.position + 1),
        }
    }

    /// Whether the article (its `takeaways` and `summary` now) no longer says this here.
    pub fn changed(&self, takeaways: &[String], summary: &str) -> bool {
        match self.kind {
            QuoteKind::Takeaway => {
                takeaways.get(self.position as usize).is_none_or(|now| !normalise(now).contains(&self.text))
            }
            QuoteKind::Summary => {
                let sentences = Sentences::of(summary);
                !sentences.starts_in(&self.text).contains(&(self.position as usize))
            }
        }
    }

    pub fn shown(self, takeaways: &[String], summary: &str, article_slug: &str) -> ShownQuote {
        let changed = self.changed(takeaways, summary);
        ShownQuote { quote: self, changed, article_slug: article_slug.to_owned() }
    }

    /// A request for this same quote (checked again when the comment is posted).
    pub fn request(&self) -> QuoteRequest {
        QuoteRequest {
            kind: Some(self.kind.as_str().to_owned()),
            number: Some(i64::from(self.position) + 1),
            text: Some(self.text.clone()),
        }
    }

    /// The form's value for it: `takeaway-N` or `summary-N` (from 1).
    pub fn field(&self) -> String {
        format!("{}-{}", self.kind.as_str(), self.position + 1)
    }
}

/// What a form or the API asked to quote, before it is checked against the article.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuoteRequest {
    pub kind: Option<String>,
    /// From 1: the takeaway, or the summary sentence where the passage starts (optional
    /// for the summary: the first place it occurs is taken).
    pub number: Option<i64>,
    /// The passage (required for the summary; for a takeaway, a part of it, or absent
    /// for all of it).
    pub text: Option<String>,
}

impl QuoteRequest {
    /// Whether anything was asked.
    pub fn is_empty(&self) -> bool {
        self.kind.as_deref().is_none_or(|k| k.trim().is_empty())
            && self.number.is_none()
            && self.text.as_deref().is_none_or(|t| t.trim().is_empty())
    }

    /// Reads the form's `quote` field, `takeaway-N` or `summary-N`, and its text.
    pub fn from_form(quote: Option<&str>, text: Option<&str>) -> Result<QuoteRequest, String> {
        let text = text.map(str::to_owned).filter(|t| !t.trim().is_empty());
        let Some(quote) = quote.map(str::trim).filter(|q| !q.is_empty()) else {
            return Ok(QuoteRequest { text, ..Default::default() });
        };
        let (kind, number) = quote.rsplit_once('-').ok_or_else(|| bad_field(quote))?;
        let number = number.parse::<i64>().map_err(|_| bad_field(quote))?;
        Ok(QuoteRequest { kind: Some(kind.to_owned()), number: Some(number), text })
    }

    /// The quote this asks for, checked against the article as it is: the takeaway must
    /// exist, and a summary passage must be in the summary (at most
    /// [`MAX_QUOTE_CHARS`] characters). `Ok(None)` when nothing was asked.
    pub fn check(&self, takeaways: &[String], summary: &str) -> Result<Option<Quote>, String> {
        if self.is_empty() {
            return Ok(None);
        }
        let kind = self.kind.as_deref().map(str::trim).unwrap_or("");
        let kind = QuoteKind::parse(kind)
            .ok_or_else(|| format!("A quote is of a takeaway or of the summary, not {kind:?}."))?;
        let text = self.text.as_deref().map(normalise).filter(|t| !t.is_empty());
        if let Some(text) = &text {
            if text.chars().count() > MAX_QUOTE_CHARS {
                return Err(format!("A quote may have at most {MAX_QUOTE_CHARS} characters."));
            }
        }
        match kind {
            QuoteKind::Takeaway => {
                let count = takeaways.len();
                let position = self.number.filter(|n| (1..=count as i64).contains(n)).ok_or_else(|| match count {
                    0 => "This article has no takeaways to quote.".to_owned(),
                    _ => format!("There is no takeaway {}: this article has {count}.", self.number.unwrap_or(0)),
                })? as usize
                    - 1;
                let whole = normalise(&takeaways[position]);
                let text = match text {
                    Some(text) if whole.contains(&text) => text,
                    Some(_) => return Err(format!("The quoted text is not in takeaway {}.", position + 1)),
                    None => whole,
                };
                Ok(Some(Quote { kind, position: position as i32, text }))
            }
            QuoteKind::Summary => {
                let sentences = Sentences::of(summary);
                if let Some(n) = self.number.filter(|n| *n < 1 || *n > sentences.count() as i64) {
                    return Err(format!("There is no sentence {n} in the summary."));
                }
                let text = text.ok_or("Say which passage of the summary you quote.")?;
                let starts = sentences.starts_in(&text);
                let position = match self.number {
                    None => starts.first().copied(),
                    Some(n) => starts.iter().copied().find(|s| *s as i64 == n - 1),
                };
                let position = position.ok_or("The quoted text is not in the article's summary.")?;
                Ok(Some(Quote { kind, position: position as i32, text }))
            }
        }
    }
}

fn bad_field(raw: &str) -> String {
    format!("quote must be takeaway-N or summary-N; {raw:?} is not.")
}

/// Text with every run of white space made one space, trimmed: as a reader selects it.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A summary cut into sentences, numbered across its paragraphs.
pub struct Sentences {
    /// Each paragraph's sentences, normalised.
    pub paragraphs: Vec<Vec<String>>,
}

impl Sentences {
    /// Cuts each paragraph (separated by blank lines) after `.`, `!` or `?` (and any
    /// closing quotes or brackets) followed by white space.
    pub fn of(summary: &str) -> Sentences {
        let paragraphs = summary
            .split("\n\n")
            .map(normalise)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut out = Vec::new();
                let mut start = 0;
                let chars: Vec<(usize, char)> = p.char_indices().collect();
                for (i, &(at, c)) in chars.iter().enumerate() {
                    if c != ' ' || i == 0 {
                        continue;
                    }
                    // Back over closing marks to the end of the sentence.
                    let mut j = i - 1;
                    while j > 0 && matches!(chars[j].1, '"' | '\'' | ')' | ']' | '”' | '’' | '»') {
                        j -= 1;
                    }
                    if matches!(chars[j].1, '.' | '!' | '?') && at > start {
                        out.push(p[start..at].to_owned());
                        start = at + 1;
                    }
                }
                if start < p.len() {
                    out.push(p[start..].to_owned());
                }
                out
            })
            .collect();
        Sentences { paragraphs }
    }

    pub fn count(&self) -> usize {
        self.paragraphs.iter().map(Vec::len).sum()
    }

    /// The sentences in which `text` starts somewhere (a passage may run on into the
    /// sentences after it, within its paragraph).
    pub fn starts_in(&self, text: &str) -> Vec<usize> {
        let mut found = Vec::new();
        if text.is_empty() {
            return found;
        }
        let mut first = 0;
        for sentences in &self.paragraphs {
            let joined = sentences.join(" ");
            // Where each sentence starts in the paragraph.
            let mut starts = Vec::with_capacity(sentences.len());
            let mut at = 0;
            for s in sentences {
                starts.push(at);
                at += s.len() + 1;
            }
            for (offset, _) in joined.match_indices(text) {
                let sentence = starts.partition_point(|s| *s <= offset) - 1;
                if found.last() != Some(&(first + sentence)) {
                    found.push(first + sentence);
                }
            }
            first += sentences.len();
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "One fact. Another “fact.” A third!\n\nNext paragraph? Yes.";

    #[test]
    fn sentences_are_cut_and_numbered_across_paragraphs() {
        let s = Sentences::of(SUMMARY);
        assert_eq!(
            s.paragraphs,
            vec![vec!["One fact.", "Another “fact.”", "A third!"], vec!["Next paragraph?", "Yes."]]
        );
        assert_eq!(s.starts_in("fact"), vec![0, 1]);
        assert_eq!(s.starts_in("fact. Another"), vec![0]);
        assert_eq!(s.starts_in("Yes"), vec![4]);
        assert!(s.starts_in("third! Next").is_empty(), "a passage stays within its paragraph");
    }

    #[test]
    fn requests_are_checked_against_the_article() {
        let takeaways = vec!["First point.".to_owned(), "Second   point.".to_owned()];
        let ask = |kind: &str, number: Option<i64>, text: Option<&str>| QuoteRequest {
            kind: Some(kind.into()),
            number,
            text: text.map(Into::into),
        };
        let q = ask("takeaway", Some(2), None).check(&takeaways, SUMMARY).unwrap().unwrap();
        assert_eq!((q.position, q.text.as_str()), (1, "Second point."));
        assert!(ask("takeaway", Some(3), None).check(&takeaways, SUMMARY).is_err());
        assert!(ask("takeaway", Some(0), None).check(&takeaways, SUMMARY).is_err());
        assert!(ask("takeaway", Some(1), Some("nothing")).check(&takeaways, SUMMARY).is_err());
        let q = ask("summary", None, Some("Another  “fact.”")).check(&takeaways, SUMMARY).unwrap().unwrap();
        assert_eq!(q.position, 1);
        let q = ask("summary", Some(2), Some("fact")).check(&takeaways, SUMMARY).unwrap().unwrap();
        assert_eq!(q.position, 1);
        assert!(ask("summary", Some(3), Some("fact")).check(&takeaways, SUMMARY).is_err());
        assert!(ask("summary", None, Some("not there")).check(&takeaways, SUMMARY).is_err());
        assert!(ask("summary", None, None).check(&takeaways, SUMMARY).is_err());
        assert!(ask("summary", None, Some(&"a".repeat(501))).check(&takeaways, SUMMARY).is_err());
        assert!(ask("other", Some(1), None).check(&takeaways, SUMMARY).is_err());
        assert_eq!(QuoteRequest::default().check(&takeaways, SUMMARY), Ok(None));
        // Later edits.
        let q = ask("takeaway", Some(1), None).check(&takeaways, SUMMARY).unwrap().unwrap();
        assert!(!q.changed(&takeaways, SUMMARY));
        assert!(q.changed(&["First point, edited.".to_owned()], SUMMARY));
        assert!(q.changed(&[], SUMMARY));
        let q = ask("summary", None, Some("A third!")).check(&takeaways, SUMMARY).unwrap().unwrap();
        assert!(!q.changed(&takeaways, SUMMARY));
        assert!(q.changed(&takeaways, "A third! One fact."));
    }
}
