//! Disqus XML exports and WordPress WXR files, read as a stream of XML events: only
//! the record being read is held in memory.

use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::{parse_time, tidy, Author, Body, Comment, ImportError, Record, Sink, Thread, MAX_NAME, MAX_TITLE, MAX_URL};

/// One XML event, decoded: element names without their namespace prefix.
enum Ev {
    Start { name: String, attrs: Vec<(String, String)>, empty: bool },
    End,
    Text(String),
    Eof,
}

struct XmlIn<R: BufRead> {
    reader: Reader<R>,
    buf: Vec<u8>,
    /// The line the reader is on (from 1).
    line: u64,
    /// The line the last event started on.
    event_line: u64,
    /// Elements open.
    depth: usize,
    /// Names of the open elements, for the message when the file ends inside one.
    open: Vec<String>,
}

impl<R: BufRead> XmlIn<R> {
    fn new(input: R) -> XmlIn<R> {
        let mut reader = Reader::from_reader(input);
        reader.config_mut().check_end_names = true;
        XmlIn { reader, buf: Vec::with_capacity(8 * 1024), line: 1, event_line: 1, depth: 0, open: Vec::new() }
    }

    fn at(&self) -> String {
        format!("line {}", self.event_line)
    }

    fn bad(&self, reason: impl Into<String>) -> ImportError {
        ImportError::malformed(self.at(), reason)
    }

    fn next(&mut self) -> Result<Ev, ImportError> {
        loop {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            let line = self.line;
            let bad = |reason: String| ImportError::malformed(format!("line {line}"), reason);
            let decoder = self.reader.decoder();
            let decoded = match self.reader.read_event_into(&mut buf) {
                Ok(event) => decode(event, decoder).map_err(bad),
                Err(err) => Err(bad(match &err {
                    quick_xml::Error::Io(io) => format!("could not read the file: {io}"),
                    quick_xml::Error::Syntax(syntax) if format!("{syntax:?}").starts_with("Unclosed") => {
                        format!("the file ends inside a tag or a section ({syntax}): it is cut short")
                    }
                    other => format!("not well-formed XML ({other})"),
                })),
            };
            let lines = bytecount(&buf);
            self.buf = buf;
            let decoded = decoded?;
            // An event spanning lines: it starts on the current line, which moves on after.
            let line_of_event = self.line;
            self.event_line = line_of_event;
            self.line += lines;
            if let Some(ev) = decoded {
                match &ev {
                    Ev::Start { name, empty: false, .. } => {
                        self.depth += 1;
                        self.open.push(name.clone());
                    }
                    Ev::End => {
                        self.depth -= 1;
                        self.open.pop();
                    }
                    Ev::Eof if self.depth > 0 => {
                        return Err(ImportError::malformed(
                            format!("line {line_of_event}"),
                            format!(
                                "the file ends inside <{}>: it is cut short",
                                self.open.last().map_or("?", String::as_str)
                            ),
                        ));
                    }
                    _ => {}
                }
                return Ok(ev);
            }
        }
    }

    /// Reads the rest of the element just started (of `empty` content or not) into
    /// flat fields: `a/b` for the text of a nested element, `a/b@x` for an attribute.
    /// Elements named in `skip` (and what they hold) are passed over.
    fn collect(&mut self, attrs: Vec<(String, String)>, empty: bool, skip: &[&str]) -> Result<Fields, ImportError> {
        let mut fields = Fields(attrs.into_iter().map(|(k, v)| (format!("@{k}"), v)).collect());
        if empty {
            return Ok(fields);
        }
        let mut path: Vec<String> = Vec::new();
        let mut skipping = 0usize;
        loop {
            match self.next()? {
                Ev::Start { name, attrs, empty } => {
                    if skipping > 0 || skip.contains(&name.as_str()) {
                        if !empty {
                            skipping += 1;
                        }
                        continue;
                    }
                    let prefix = if path.is_empty() { name.clone() } else { format!("{}/{name}", path.join("/")) };
                    for (k, v) in attrs {
                        fields.0.push((format!("{prefix}@{k}"), v));
                    }
                    if !empty {
                        path.push(name);
                    } else {
                        fields.0.push((prefix, String::new()));
                    }
                }
                Ev::End => {
                    if skipping > 0 {
                        skipping -= 1;
                    } else if path.pop().is_none() {
                        return Ok(fields);
                    }
                }
                Ev::Text(text) => {
                    if skipping > 0 || path.is_empty() {
                        continue;
                    }
                    let key = path.join("/");
                    match fields.0.iter_mut().rev().find(|(k, _)| *k == key) {
                        Some((_, v)) => v.push_str(&text),
                        None => fields.0.push((key, text)),
                    }
                }
                Ev::Eof => return Err(self.bad("the file ends inside a record: it is cut short")),
            }
        }
    }

    /// The text of an element just started (that of elements within it included).
    fn text(&mut self, empty: bool) -> Result<String, ImportError> {
        let mut text = String::new();
        if empty {
            return Ok(text);
        }
        let mut depth = 1;
        while depth > 0 {
            match self.next()? {
                Ev::Start { empty: false, .. } => depth += 1,
                Ev::End => depth -= 1,
                Ev::Text(t) => text.push_str(&t),
                Ev::Eof => return Err(self.bad("the file ends inside a record: it is cut short")),
                _ => {}
            }
        }
        Ok(text)
    }

    /// Passes over the rest of an element just started.
    fn skip(&mut self, empty: bool) -> Result<(), ImportError> {
        if empty {
            return Ok(());
        }
        let mut depth = 1;
        while depth > 0 {
            match self.next()? {
                Ev::Start { empty: false, .. } => depth += 1,
                Ev::End => depth -= 1,
                Ev::Eof => return Err(self.bad("the file ends inside a record: it is cut short")),
                _ => {}
            }
        }
        Ok(())
    }

    /// The root element's name, after the prolog; text before it is not XML.
    fn root(&mut self, expected: &str, what: &str) -> Result<(), ImportError> {
        loop {
            let event = self.next().map_err(|err| match err {
                ImportError::Malformed { at, reason } => ImportError::malformed(
                    at,
                    format!("this is not {what}: it does not start as an XML file ({reason})"),
                ),
                other => other,
            })?;
            match event {
                Ev::Text(t) if t.trim().is_empty() => continue,
                Ev::Start { name, .. } if name == expected => return Ok(()),
                Ev::Start { name, .. } => {
                    return Err(self.bad(format!("this is not {what}: its root element is <{name}>, not <{expected}>")))
                }
                Ev::Text(_) => return Err(self.bad(format!("this is not {what}: it does not start as an XML file"))),
                Ev::End => return Err(self.bad("not well-formed XML")),
                Ev::Eof => return Err(self.bad(format!("this is not {what}: the file is empty"))),
            }
        }
    }
}

/// An event as the readers here take it (`None`: one they pass over).
fn decode(event: Event, decoder: quick_xml::encoding::Decoder) -> Result<Option<Ev>, String> {
    let enc = |e: quick_xml::encoding::EncodingError| format!("bad text encoding ({e})");
    Ok(match event {
        Event::Start(e) => {
            Some(Ev::Start { name: local(e.local_name().as_ref()), attrs: attrs(&e, decoder)?, empty: false })
        }
        Event::Empty(e) => {
            Some(Ev::Start { name: local(e.local_name().as_ref()), attrs: attrs(&e, decoder)?, empty: true })
        }
        Event::End(_) => Some(Ev::End),
        Event::Text(t) => Some(Ev::Text(t.xml10_content().map_err(enc)?.into_owned())),
        Event::CData(t) => Some(Ev::Text(t.decode().map_err(enc)?.into_owned())),
        Event::GeneralRef(r) => {
            let text = match r.resolve_char_ref() {
                Ok(Some(ch)) => ch.to_string(),
                Ok(None) => {
                    let name = r.decode().map_err(enc)?;
                    match name.as_ref() {
                        "amp" => "&".to_owned(),
                        "lt" => "<".to_owned(),
                        "gt" => ">".to_owned(),
                        "quot" => "\"".to_owned(),
                        "apos" => "'".to_owned(),
                        other => return Err(format!("unknown entity &{other};")),
                    }
                }
                Err(e) => return Err(format!("bad character reference ({e})")),
            };
            Some(Ev::Text(text))
        }
        Event::Eof => Some(Ev::Eof),
        Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => None,
    })
}

fn bytecount(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

fn local(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

fn attrs(
    e: &quick_xml::events::BytesStart,
    decoder: quick_xml::encoding::Decoder,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("bad attribute ({err})"))?;
        let key = attr.key.local_name();
        let value = attr
            .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, decoder)
            .map_err(|err| format!("bad attribute ({err})"))?;
        out.push((local(key.as_ref()), value.into_owned()));
    }
    Ok(out)
}

/// A record's fields, flat, in the order they came.
#[derive(Debug, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The raw text, spaces kept.
    fn raw(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }
}

/// Reads a Disqus export: `<thread dsq:id>` records with link and title, and `<post
/// dsq:id>` records naming their thread and parent by dsq:id.
pub fn read_disqus(input: Box<dyn BufRead>, sink: &mut Sink) -> Result<(), ImportError> {
    let mut xml = XmlIn::new(input);
    xml.root("disqus", "a Disqus export")?;
    loop {
        match xml.next()? {
            Ev::Start { name, attrs, empty } => {
                let at = xml.at();
                match name.as_str() {
                    "thread" => {
                        let f = xml.collect(attrs, empty, &["author", "message"])?;
                        let id =
                            f.get("@id").ok_or_else(|| ImportError::malformed(&at, "a <thread> without dsq:id"))?;
                        sink(Record::Thread(Thread {
                            source_id: id.to_owned(),
                            url: tidy(f.get("link").unwrap_or(""), MAX_URL),
                            title: tidy(f.get("title").unwrap_or(""), MAX_TITLE),
                        }))?;
                    }
                    "post" => {
                        let f = xml.collect(attrs, empty, &[])?;
                        let comment = disqus_post(&f).map_err(|reason| ImportError::malformed(&at, reason))?;
                        sink(Record::Comment(comment))?;
                    }
                    _ => xml.skip(empty)?,
                }
            }
            Ev::End => {
                // The root closed: nothing may follow but space and comments.
                loop {
                    match xml.next()? {
                        Ev::Eof => return Ok(()),
                        Ev::Text(t) if t.trim().is_empty() => {}
                        _ => return Err(xml.bad("content after the end of <disqus>")),
                    }
                }
            }
            Ev::Text(_) => {}
            Ev::Eof => return Err(xml.bad("the file ends before </disqus>: it is cut short")),
        }
    }
}

fn disqus_post(f: &Fields) -> Result<Comment, String> {
    let id = f.get("@id").ok_or("a <post> without dsq:id")?;
    let label = |reason: &str| format!("post {id}: {reason}");
    let thread = f.get("thread@id").ok_or_else(|| label("names no <thread dsq:id>"))?;
    let created = f.get("createdAt").ok_or_else(|| label("no <createdAt>"))?;
    let created_at = parse_time(created).ok_or_else(|| label(&format!("<createdAt> {created:?} is not a date")))?;
    let name = f.get("author/name").or(f.get("author/username")).unwrap_or("Anonymous");
    let email = f.get("author/email").map(|e| e.to_lowercase());
    let key = match (f.get("author/username"), &email) {
        (Some(username), _) if !f.flag("author/isAnonymous") => format!("user:{username}"),
        (_, Some(email)) => format!("email:{email}"),
        _ => format!("name:{name}"),
    };
    Ok(Comment {
        source_id: id.to_owned(),
        thread_id: thread.to_owned(),
        parent_id: f.get("parent@id").map(str::to_owned),
        author: Author { key, name: tidy(name, MAX_NAME), email },
        created_at,
        body: Body::Html(f.raw("message").unwrap_or("").to_owned()),
        deleted: f.flag("isDeleted"),
        spam: f.flag("isSpam"),
        pending: false,
        skip: None,
    })
}

/// Reads a WordPress export (WXR): `<item>`s of the channel, each a post with its
/// `<wp:comment>`s.
pub fn read_wxr(input: Box<dyn BufRead>, sink: &mut Sink) -> Result<(), ImportError> {
    let mut xml = XmlIn::new(input);
    xml.root("rss", "a WordPress export (WXR)")?;
    let mut channels = 0;
    loop {
        match xml.next()? {
            Ev::Start { name, empty, .. } if name == "channel" => {
                channels += 1;
                if !empty {
                    read_channel(&mut xml, sink)?;
                }
            }
            Ev::Start { empty, .. } => xml.skip(empty)?,
            Ev::Text(_) => {}
            Ev::End => {
                if channels == 0 {
                    return Err(xml.bad("this is not a WordPress export (WXR): it has no <channel>"));
                }
                loop {
                    match xml.next()? {
                        Ev::Eof => return Ok(()),
                        Ev::Text(t) if t.trim().is_empty() => {}
                        _ => return Err(xml.bad("content after the end of <rss>")),
                    }
                }
            }
            Ev::Eof => return Err(xml.bad("the file ends before </rss>: it is cut short")),
        }
    }
}

fn read_channel<R: BufRead>(xml: &mut XmlIn<R>, sink: &mut Sink) -> Result<(), ImportError> {
    loop {
        match xml.next()? {
            Ev::Start { name, empty, .. } if name == "item" => {
                if !empty {
                    read_item(xml, sink)?;
                }
            }
            Ev::Start { empty, .. } => xml.skip(empty)?,
            Ev::Text(_) => {}
            Ev::End => return Ok(()),
            Ev::Eof => return Err(xml.bad("the file ends inside <channel>: it is cut short")),
        }
    }
}

/// An item's own fields come before its comments in every export seen; a comment
/// before them would belong to a thread without a link, so the thread is announced at
/// its first comment (or at its end when it has none).
fn read_item<R: BufRead>(xml: &mut XmlIn<R>, sink: &mut Sink) -> Result<(), ImportError> {
    let start = xml.at();
    let mut item = Fields::default();
    let mut thread: Option<String> = None;
    let announce = |item: &Fields, sink: &mut Sink| -> Result<String, ImportError> {
        let url = tidy(item.get("link").unwrap_or(""), MAX_URL);
        let id = match item.get("post_id") {
            Some(id) => format!("post:{id}"),
            None if !url.is_empty() => format!("link:{url}"),
            None => format!("item at {start}"),
        };
        sink(Record::Thread(Thread {
            source_id: id.clone(),
            url,
            title: tidy(item.get("title").unwrap_or(""), MAX_TITLE),
        }))?;
        Ok(id)
    };
    loop {
        match xml.next()? {
            Ev::Start { name, attrs, empty } if name == "comment" => {
                let at = xml.at();
                let thread_id = match &thread {
                    Some(id) => id.clone(),
                    None => {
                        let id = announce(&item, sink)?;
                        thread = Some(id.clone());
                        id
                    }
                };
                let f = xml.collect(attrs, empty, &["commentmeta"])?;
                let comment = wxr_comment(&f, &thread_id).map_err(|reason| ImportError::malformed(&at, reason))?;
                sink(Record::Comment(comment))?;
            }
            Ev::Start { name, empty, .. } if ["title", "link", "post_id"].contains(&name.as_str()) => {
                let text = xml.text(empty)?;
                item.0.push((name, text));
            }
            Ev::Start { empty, .. } => xml.skip(empty)?,
            Ev::Text(_) => {}
            Ev::End => {
                if thread.is_none() {
                    announce(&item, sink)?;
                }
                return Ok(());
            }
            Ev::Eof => return Err(xml.bad("the file ends inside <item>: it is cut short")),
        }
    }
}

fn wxr_comment(f: &Fields, thread: &str) -> Result<Comment, String> {
    let id = f.get("comment_id").ok_or("a <wp:comment> without <wp:comment_id>")?;
    let label = |reason: &str| format!("comment {id}: {reason}");
    let created_at = f
        .get("comment_date_gmt")
        .and_then(parse_time)
        .or_else(|| f.get("comment_date").and_then(parse_time))
        .ok_or_else(|| label("no valid <wp:comment_date_gmt> or <wp:comment_date>"))?;
    let name = f.get("comment_author").unwrap_or("Anonymous");
    let email = f.get("comment_author_email").map(|e| e.to_lowercase());
    let key = match (f.get("comment_user_id").filter(|u| *u != "0"), &email) {
        (Some(user), _) => format!("user:{user}"),
        (None, Some(email)) => format!("email:{email}"),
        _ => format!("name:{name}"),
    };
    let approved = f.get("comment_approved").unwrap_or("1");
    let skip = match f.get("comment_type") {
        Some("pingback" | "trackback") => Some("a pingback or trackback"),
        _ => None,
    };
    Ok(Comment {
        source_id: format!("{thread}/{id}"),
        thread_id: thread.to_owned(),
        parent_id: f.get("comment_parent").filter(|p| *p != "0").map(|p| format!("{thread}/{p}")),
        author: Author { key, name: tidy(name, MAX_NAME), email },
        created_at,
        body: Body::Html(f.raw("comment_content").unwrap_or("").trim().to_owned()),
        deleted: approved == "trash",
        spam: approved == "spam",
        pending: approved == "0",
        skip,
    })
}
