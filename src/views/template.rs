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

use super::comments::{comment, forest, personal, Node, Personal, Reader, ThreadView};
use crate::db::comments::ThreadComment;
use crate::domain::{Actor, CommentId, Role, UserId};
use crate::gzip::Deflated;

/// Stands where a reader's own part goes. It cannot come from anything a user wrote:
/// text is escaped (`<` becomes `&lt;`) and Markdown's HTML comments are removed.
pub const MARKER: &str = "<!--afterword:personal-->";

/// Plain bytes per chunk, about: small enough that refilling one costs little, large
/// enough to compress well.
const CHUNK: usize = 8 * 1024;

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
}

/// A page of comments rendered once; see the module's documentation.
pub struct SharedThread {
    pieces: Vec<Piece>,
    slots: Vec<Slot>,
    chunks: Vec<Chunk>,
    /// The ids of the comments a reader may have voted on.
    pub ids: Vec<CommentId>,
    bytes: usize,
}

/// A reader's copy: shared chunks and chunks filled for them, in order.
pub enum Part<'a> {
    Shared(&'a Chunk),
    Own(String),
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
        let mut thread = SharedThread { pieces, slots, chunks: Vec::new(), ids, bytes: 0 };
        let mut start = 0;
        let mut plain = String::new();
        for i in 0..thread.pieces.len() {
            plain.push_str(thread.bystander(i));
            if plain.len() >= CHUNK || i + 1 == thread.pieces.len() {
                let deflated = Deflated::new(plain.as_bytes(), 6);
                let linked =
                    thread.chunks.last().map(|before| Deflated::after(plain.as_bytes(), before.plain.as_bytes(), 6));
                thread.bytes += plain.len() + deflated.data.len() + linked.as_ref().map_or(0, |l| l.data.len());
                thread.chunks.push(Chunk { pieces: start..i + 1, plain: std::mem::take(&mut plain), deflated, linked });
                start = i + 1;
            }
        }
        // What is held besides the chunks: the pieces, and each part's comment.
        thread.bytes += thread.pieces.iter().map(|p| if let Piece::Text(t) = p { t.len() } else { 16 }).sum::<usize>();
        thread.bytes +=
            thread.slots.iter().map(|s| s.bystander.len() + s.item.comment.body_html.len() + 512).sum::<usize>();
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
        self.chunks
            .iter()
            .map(|chunk| {
                let touched = self.pieces[chunk.pieces.clone()]
                    .iter()
                    .any(|p| matches!(p, Piece::Slot(s) if own(&self.slots[*s])));
                if !touched {
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
                Part::Own(text)
            })
            .collect()
    }
}

/// The page as one gzip member: `head`, the thread's `parts` and `tail`. A shared chunk
/// right after the shared chunk before it goes in its linked copy; the reader's own
/// pieces are compressed here, each after the text before it.
pub fn gzip(head: &str, parts: &[Part], tail: &str) -> Vec<u8> {
    enum Piece<'a> {
        Kept(&'a Deflated),
        Made(usize),
    }
    let mut made = Vec::with_capacity(parts.len() + 2);
    let mut order = Vec::with_capacity(parts.len() + 2);
    let mut crc = crc32fast::Hasher::new();
    crc.update(head.as_bytes());
    made.push(Deflated::fast(head.as_bytes()));
    order.push(Piece::Made(0));
    let mut before = head;
    let mut after_shared = false;
    for part in parts {
        match part {
            Part::Shared(chunk) => {
                let kept = match &chunk.linked {
                    Some(linked) if after_shared => linked,
                    _ => &chunk.deflated,
                };
                order.push(Piece::Kept(kept));
                crc.update(chunk.plain.as_bytes());
                before = &chunk.plain;
                after_shared = true;
            }
            Part::Own(text) => {
                order.push(Piece::Made(made.len()));
                made.push(Deflated::fast_after(text.as_bytes(), before.as_bytes()));
                crc.update(text.as_bytes());
                before = text;
                after_shared = false;
            }
        }
    }
    order.push(Piece::Made(made.len()));
    made.push(Deflated::fast_after(tail.as_bytes(), before.as_bytes()));
    crc.update(tail.as_bytes());
    let pieces = order.iter().map(|piece| match piece {
        Piece::Kept(kept) => *kept,
        Piece::Made(i) => &made[*i],
    });
    let len = head.len()
        + tail.len()
        + parts
            .iter()
            .map(|p| match p {
                Part::Shared(c) => c.plain.len(),
                Part::Own(t) => t.len(),
            })
            .sum::<usize>();
    crate::gzip::join_checked(pieces, crc, len as u64)
}

/// The thread as plain HTML, for a reader whose client takes no gzip.
pub fn plain(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Shared(chunk) => out.push_str(&chunk.plain),
            Part::Own(text) => out.push_str(text),
        }
    }
    out
}
