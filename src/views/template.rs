//! A thread rendered once and shared by every signed-in reader.
//!
//! A page of comments is the same for every reader but for a few parts of each comment
//! (see [`Personal`]): the buttons, which depend on whether the reader wrote it, voted
//! on it or moderates. [`SharedThread`] renders a page of comments once with markers in
//! those places, fills each with what a reader who neither wrote nor voted on the
//! comment sees, and keeps the result in chunks, each also compressed on its own. A
//! reader's copy is the shared chunks, except the few chunks holding a comment the
//! reader wrote or voted on, which are filled and compressed for them.
//!
//! Readers whose every comment differs (moderators, who get a link on each, and banned
//! readers, who get no buttons) are not served from here.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use super::comments::{comment, forest, personal, Node, Personal, Reader, ThreadView};
use crate::db::comments::ThreadComment;
use crate::domain::{Actor, CommentId, Role, UserId};
use crate::gzip::{CrcShift, Deflated};

/// Stands where a reader's own part goes. It cannot come from anything a user wrote:
/// text is escaped (`<` becomes `&lt;`) and Markdown's HTML comments are removed.
pub const MARKER: &str = "<!--afterword:personal-->";

/// Where a reader's navigation goes in a [`Frame`] (see `layout::site_nav`).
pub const NAV_MARKER: &str = "<!--afterword:nav-->";
/// Where a reader's save button goes in a [`Frame`] (see `profiles::save_button`).
pub const SAVE_MARKER: &str = "<!--afterword:save-->";

/// What a stand-in's forms carry for a CSRF token, and a [`Frame`] replaces with the
/// reader's: random, so that nothing anyone wrote can hold it.
pub fn csrf_marker() -> &'static str {
    static MARKER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    MARKER.get_or_init(crate::auth::random_token)
}

/// Plain bytes per chunk, about: small enough that refilling one costs little, large
/// enough to compress well.
const CHUNK: usize = 4 * 1024;

/// Whether a reader is served from shared threads: a reader in good standing.
pub fn shares(actor: &Actor) -> bool {
    actor.role == Role::Reader && !actor.banned
}

/// What a reader who took no part in the thread sees.
const BYSTANDER: Reader = Reader { actor: Some(Actor { id: UserId(0), role: Role::Reader, banned: false }), vote: 0 };

enum Piece {
    Text(String),
    /// Index into `slots`.
    Slot(usize),
}

struct Slot {
    kind: Personal,
    item: ThreadComment,
    /// What a bystander sees here.
    bystander: String,
}

/// A run of pieces, with the bystander's copy compressed: on its own, and after the
/// bystander's copy of the chunk before it (see [`Deflated::after`]), which is what a
/// reader gets wherever the two follow each other.
pub struct Chunk {
    pieces: Range<usize>,
    pub plain: String,
    pub deflated: Deflated,
    /// `None` for the first chunk.
    linked: Option<Deflated>,
    /// Joins the CRC of what comes before with this chunk's (`deflated.crc`).
    shift: CrcShift,
}

/// A variant's chunk, what it follows (the CRC and length of the reader's own chunk
/// before, if so) and the CRC of its text.
type VariantKey = (usize, Option<(u32, usize)>, u32);

/// What a reader's own copy of a chunk follows in their page.
enum Before<'a> {
    Nothing,
    /// The bystander's copy of the chunk before.
    Shared,
    /// Their own copy of the chunk before.
    Own(&'a str),
}

/// A reader's own copy of a chunk, compressed after what comes before it (readers who
/// voted alike on a chunk's comments share one).
struct Variant {
    plain: String,
    /// What it was compressed after: the end of the text before it (see
    /// [`dictionary_tail`]).
    after: Vec<u8>,
    deflated: Deflated,
    shift: CrcShift,
}

/// The part of the text before a piece that the piece may refer to
/// ([`Deflated::fast_after`] takes the last KiB).
fn dictionary_tail(before: &str) -> &[u8] {
    &before.as_bytes()[before.len().saturating_sub(1024)..]
}

/// A page of comments rendered once; see the module's documentation.
pub struct SharedThread {
    pieces: Vec<Piece>,
    slots: Vec<Slot>,
    chunks: Vec<Chunk>,
    /// The ids of the comments a reader may have voted on.
    pub ids: Vec<CommentId>,
    bytes: usize,
    /// Readers' own copies compressed: by chunk, what came before (when their own copy
    /// of the chunk before, its CRC and length), and the CRC of the text.
    variants: Mutex<HashMap<VariantKey, Arc<Variant>>>,
    /// The chunks holding each comment's parts, and each author's comments' parts.
    by_comment: HashMap<CommentId, Vec<usize>>,
    by_author: HashMap<UserId, Vec<usize>>,
}

/// A reader's copy: shared chunks and chunks filled for them (with the chunk's index),
/// in order.
pub enum Part<'a> {
    Shared(&'a Chunk),
    Own(usize, String),
}

/// Renders `nodes` with markers for the reader's parts: the pieces in order, and the
/// parts, each with what a bystander sees there.
fn record(view: &ThreadView, render: impl Fn(&ThreadView) -> maud::Markup) -> (Vec<Piece>, Vec<Slot>) {
    let recording = ThreadView {
        visitor: view.visitor,
        locked: view.locked,
        return_to: view.return_to,
        now: view.now,
        edit_window: view.edit_window,
        sort: view.sort,
        template: Some(Default::default()),
    };
    let html = render(&recording).into_string();
    let recorded = recording.template.map(|r| r.into_inner()).unwrap_or_default();
    let mut pieces = Vec::with_capacity(recorded.len() * 2 + 1);
    let mut texts = html.split(MARKER);
    pieces.push(Piece::Text(texts.next().unwrap_or_default().to_owned()));
    let mut slots = Vec::with_capacity(recorded.len());
    for ((kind, item), text) in recorded.into_iter().zip(texts) {
        let bystander = personal(view, kind, &item, BYSTANDER).into_string();
        pieces.push(Piece::Slot(slots.len()));
        slots.push(Slot { kind, item, bystander });
        pieces.push(Piece::Text(text.to_owned()));
    }
    (pieces, slots)
}

/// One comment (as [`comment`] renders it) as a signed-in reader who took no part in
/// it sees it.
pub fn for_bystander(view: &ThreadView, node: &Node) -> String {
    let (pieces, slots) = record(view, |v| comment(v, node, 0));
    let mut out = String::new();
    for piece in &pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Slot(s) => out.push_str(&slots[*s].bystander),
        }
    }
    out
}

impl SharedThread {
    /// Renders `nodes` as [`forest`] would for a bystander, with the reader's parts left
    /// open. `view` supplies the page's facts (locked, sort); its reader is not used.
    pub fn render(view: &ThreadView, nodes: &[Node]) -> SharedThread {
        let (pieces, slots) = record(view, |v| forest(v, nodes));
        let mut ids: Vec<CommentId> = slots.iter().map(|s| s.item.comment.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut thread = SharedThread {
            pieces,
            slots,
            chunks: Vec::new(),
            ids,
            bytes: 0,
            variants: Default::default(),
            by_comment: HashMap::new(),
            by_author: HashMap::new(),
        };
        let mut start = 0;
        let mut plain = String::new();
        for i in 0..thread.pieces.len() {
            plain.push_str(thread.bystander(i));
            if plain.len() >= CHUNK || i + 1 == thread.pieces.len() {
                let deflated = Deflated::new(plain.as_bytes(), 6);
                let linked =
                    thread.chunks.last().map(|before| Deflated::after(plain.as_bytes(), before.plain.as_bytes(), 6));
                thread.bytes += plain.len() + deflated.data.len() + linked.as_ref().map_or(0, |l| l.data.len());
                let shift = CrcShift::of_len(plain.len() as u64);
                let plain = std::mem::take(&mut plain);
                thread.chunks.push(Chunk { pieces: start..i + 1, plain, deflated, linked, shift });
                start = i + 1;
            }
        }
        // What is held besides the chunks: the pieces, and each part's comment.
        thread.bytes += thread.pieces.iter().map(|p| if let Piece::Text(t) = p { t.len() } else { 16 }).sum::<usize>();
        thread.bytes +=
            thread.slots.iter().map(|s| s.bystander.len() + s.item.comment.body_html.len() + 512).sum::<usize>();
        // The readers' variants, at most.
        thread.bytes += thread.max_variants() * (CHUNK * 3 / 2 + 1024 + 128);
        for (index, chunk) in thread.chunks.iter().enumerate() {
            for piece in &thread.pieces[chunk.pieces.clone()] {
                if let Piece::Slot(s) = piece {
                    let comment = &thread.slots[*s].item.comment;
                    for chunks in [
                        thread.by_comment.entry(comment.id).or_default(),
                        thread.by_author.entry(comment.author_id).or_default(),
                    ] {
                        if chunks.last() != Some(&index) {
                            chunks.push(index);
                        }
                    }
                }
            }
        }
        thread.bytes += (thread.by_comment.len() + thread.by_author.len()) * 64;
        thread
    }

    fn bystander(&self, piece: usize) -> &str {
        match &self.pieces[piece] {
            Piece::Text(text) => text,
            Piece::Slot(slot) => &self.slots[*slot].bystander,
        }
    }

    /// Memory held, roughly.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The reader's copy: `view` is the reader's (its time and edit window are used),
    /// `votes` their votes on these comments.
    pub fn fill<'a>(&'a self, view: &ThreadView, actor: Actor, votes: &HashMap<CommentId, i32>) -> Vec<Part<'a>> {
        let own = |slot: &Slot| slot.item.comment.author_id == actor.id || votes.contains_key(&slot.item.comment.id);
        // The chunks holding the reader's comments or comments they voted on.
        let mut touched = vec![false; self.chunks.len()];
        let theirs = votes.keys().filter_map(|id| self.by_comment.get(id));
        for &index in theirs.chain(self.by_author.get(&actor.id)).flatten() {
            touched[index] = true;
        }
        self.chunks
            .iter()
            .enumerate()
            .map(|(index, chunk)| {
                if !touched[index] {
                    return Part::Shared(chunk);
                }
                let mut text = String::with_capacity(chunk.deflated.len as usize + 256);
                for piece in &self.pieces[chunk.pieces.clone()] {
                    match piece {
                        Piece::Text(t) => text.push_str(t),
                        Piece::Slot(s) => {
                            let slot = &self.slots[*s];
                            if own(slot) {
                                let vote = votes.get(&slot.item.comment.id).copied().unwrap_or(0);
                                let reader = Reader { actor: Some(actor), vote };
                                text.push_str(&personal(view, slot.kind, &slot.item, reader).into_string());
                            } else {
                                text.push_str(&slot.bystander);
                            }
                        }
                    }
                }
                Part::Own(index, text)
            })
            .collect()
    }

    /// A reader's own copy of chunk `index`, compressed after `before`: the bystander's
    /// copy of the chunk before it, or the reader's own copy of it, or nothing (the
    /// first chunk). Kept for the next reader whose copy is the same after the same.
    fn variant(&self, index: usize, before: Before, text: &str) -> Arc<Variant> {
        let (dictionary, after) = match before {
            Before::Nothing => ("", None),
            Before::Shared => (self.chunks[index - 1].plain.as_str(), None),
            Before::Own(own) => (own, Some((crc32fast::hash(own.as_bytes()), own.len()))),
        };
        let key = (index, after, crc32fast::hash(text.as_bytes()));
        let kept = self.variants.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        if let Some(kept) = kept.filter(|v| v.plain == text && v.after == dictionary_tail(dictionary)) {
            return kept;
        }
        let deflated = Deflated::fast_after(text.as_bytes(), dictionary.as_bytes());
        let shift = CrcShift::of_len(deflated.len);
        let after = dictionary_tail(dictionary).to_vec();
        let made = Arc::new(Variant { plain: text.to_owned(), after, deflated, shift });
        let mut variants = self.variants.lock().unwrap_or_else(|e| e.into_inner());
        // Beyond the bound, the kept ones go: the next readers' are the ones kept.
        if variants.len() >= self.max_variants() {
            variants.clear();
        }
        variants.insert(key, made.clone());
        made
    }

    /// Readers' own copies kept at a time: room for the copies of two readers who
    /// touched every chunk, up to 64.
    fn max_variants(&self) -> usize {
        (2 * self.chunks.len() + 8).min(64)
    }

    /// The page as one gzip member: `head`, the thread's `parts` (from
    /// [`SharedThread::fill`]) and `tail`. A shared chunk right after the shared chunk
    /// before it goes in its linked copy; a reader's own chunk is compressed after what
    /// comes before it, and kept for other readers whose copy is the same.
    pub fn gzip(&self, head: &[FramePart], parts: &[Part], tail: &[FramePart]) -> Vec<u8> {
        let mut pieces: Vec<Joined> = Vec::with_capacity(head.len() + parts.len() + tail.len());
        pieces.extend(head.iter().map(FramePart::piece));
        let mut before = Before::Nothing;
        for part in parts {
            match part {
                Part::Shared(chunk) => {
                    let kept = match (&chunk.linked, &before) {
                        (Some(linked), Before::Shared) => linked,
                        _ => &chunk.deflated,
                    };
                    pieces.push(Joined::Kept(kept, chunk.shift));
                    before = Before::Shared;
                }
                Part::Own(index, text) => {
                    pieces.push(Joined::Own(self.variant(*index, before, text)));
                    before = Before::Own(text);
                }
            }
        }
        pieces.extend(tail.iter().map(FramePart::piece));
        join(&pieces)
    }
}

/// One piece of a page being joined.
enum Joined<'a> {
    /// Kept compressed, with its CRC join.
    Kept(&'a Deflated, CrcShift),
    Own(Arc<Variant>),
    Made(Deflated),
}

/// The pieces as one gzip member, the CRC of the whole joined from theirs.
fn join(pieces: &[Joined]) -> Vec<u8> {
    let (mut crc, mut len) = (0u32, 0u64);
    let deflated: Vec<&Deflated> = pieces
        .iter()
        .map(|piece| {
            let (deflated, shift) = match piece {
                Joined::Kept(kept, shift) => (*kept, *shift),
                Joined::Own(variant) => (&variant.deflated, variant.shift),
                Joined::Made(made) => (made, CrcShift::of_len(made.len)),
            };
            crc = shift.join(crc, deflated.crc);
            len += deflated.len;
            deflated
        })
        .collect();
    crate::gzip::join_checked(deflated, crc, len)
}

/// What goes in a reader's part of a [`Frame`].
#[derive(Debug, Clone, Copy)]
pub enum FrameSlot {
    Nav,
    Save,
    Csrf,
}

/// Text of a [`Frame`], kept plain and compressed on its own.
pub struct FrameText {
    plain: String,
    deflated: Deflated,
    shift: CrcShift,
}

enum FramePiece {
    Text(FrameText),
    Slot(FrameSlot),
}

/// The part of a page around a shared thread (its head or its tail) as every reader in
/// good standing shares it, rendered once for a stand-in (`Visitor::stand_in`): its
/// text kept compressed, and the places of each reader's own parts (their navigation,
/// their save button, their CSRF token).
pub struct Frame {
    pieces: Vec<FramePiece>,
    bytes: usize,
}

/// A reader's copy of a piece of a [`Frame`].
pub enum FramePart<'a> {
    Shared(&'a FrameText),
    /// Made for the reader: sent as it is, not compressed (a few hundred bytes).
    Own(String),
    /// Made for the reader, and compressed.
    Fresh(String),
}

impl FramePart<'_> {
    fn piece(&self) -> Joined<'_> {
        match self {
            FramePart::Shared(text) => Joined::Kept(&text.deflated, text.shift),
            FramePart::Own(text) => Joined::Made(Deflated::stored(text.as_bytes())),
            FramePart::Fresh(text) => Joined::Made(Deflated::fast(text.as_bytes())),
        }
    }

    fn text(&self) -> &str {
        match self {
            FramePart::Shared(text) => &text.plain,
            FramePart::Own(text) | FramePart::Fresh(text) => text,
        }
    }
}

impl Frame {
    /// `html` rendered for a stand-in, cut at its markers.
    pub fn new(html: &str) -> Frame {
        let markers = [(NAV_MARKER, FrameSlot::Nav), (SAVE_MARKER, FrameSlot::Save), (csrf_marker(), FrameSlot::Csrf)];
        let mut pieces = Vec::new();
        let mut rest = html;
        let mut bytes = 0;
        let mut text = |plain: &str, pieces: &mut Vec<FramePiece>| {
            if !plain.is_empty() {
                let deflated = Deflated::new(plain.as_bytes(), 6);
                bytes += plain.len() + deflated.data.len() + 64;
                let shift = CrcShift::of_len(plain.len() as u64);
                pieces.push(FramePiece::Text(FrameText { plain: plain.to_owned(), deflated, shift }));
            }
        };
        loop {
            let next =
                markers.iter().enumerate().filter_map(|(i, (marker, _))| rest.find(marker).map(|at| (at, i))).min();
            let Some((at, i)) = next else { break };
            text(&rest[..at], &mut pieces);
            pieces.push(FramePiece::Slot(markers[i].1));
            rest = &rest[at + markers[i].0.len()..];
        }
        text(rest, &mut pieces);
        Frame { pieces, bytes }
    }

    /// Memory held, roughly.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The reader's copy: `own` makes what goes in each of their slots.
    pub fn fill(&self, own: impl Fn(&FrameSlot) -> String) -> Vec<FramePart<'_>> {
        self.pieces
            .iter()
            .map(|piece| match piece {
                FramePiece::Text(text) => FramePart::Shared(text),
                FramePiece::Slot(slot) => FramePart::Own(own(slot)),
            })
            .collect()
    }
}

/// A reader's copy of a frame as plain HTML.
pub fn frame_plain(parts: &[FramePart], out: &mut String) {
    for part in parts {
        out.push_str(part.text());
    }
}

/// The thread as plain HTML, for a reader whose client takes no gzip.
pub fn plain(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Shared(chunk) => out.push_str(&chunk.plain),
            Part::Own(_, text) => out.push_str(text),
        }
    }
    out
}
