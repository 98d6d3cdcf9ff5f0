//! gzip bodies joined from pieces compressed apart: a page whose parts are the same
//! for many readers keeps those parts compressed, and only the reader's own parts are
//! compressed per request.
//!
//! Each piece is a raw deflate stream ended with a sync flush: it never refers to bytes
//! before its own start, sets no final-block bit and ends on a byte boundary, so pieces
//! laid end to end form one valid deflate stream. [`join`] closes it with an empty
//! final block and wraps it in the gzip header and trailer (the CRC-32 of the whole,
//! combined from the pieces' own).

use flate2::{Compress, Compression, FlushCompress};

/// One piece: its deflate bytes, and the CRC-32 and length of what they decompress to.
#[derive(Debug, Clone)]
pub struct Deflated {
    pub data: Vec<u8>,
    pub crc: u32,
    pub len: u64,
}

impl Deflated {
    /// Compresses `plain` on its own at `level` (0–9).
    pub fn new(plain: &[u8], level: u32) -> Deflated {
        let mut compress = Compress::new(Compression::new(level), false);
        Deflated::with(&mut compress, plain)
    }

    /// The same with a compressor of this thread, for pieces made per request.
    pub fn fast(plain: &[u8]) -> Deflated {
        thread_local! {
            static FAST: std::cell::RefCell<Compress> = std::cell::RefCell::new(Compress::new(Compression::new(1), false));
        }
        FAST.with(|c| {
            let mut compress = c.borrow_mut();
            compress.reset();
            Deflated::with(&mut compress, plain)
        })
    }

    fn with(compress: &mut Compress, plain: &[u8]) -> Deflated {
        let mut data = Vec::with_capacity(plain.len() / 3 + 64);
        loop {
            let read = compress.total_in() as usize;
            compress.compress_vec(&plain[read..], &mut data, FlushCompress::Sync).expect("deflate into memory");
            // Done once all is read and the flush left room to spare.
            if compress.total_in() as usize == plain.len() && data.len() < data.capacity() {
                break;
            }
            data.reserve(data.capacity().max(256));
        }
        Deflated { data, crc: crc32fast::hash(plain), len: plain.len() as u64 }
    }
}

/// The gzip header: deflate, no name, no time, unknown system.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// An empty final block (fixed Huffman codes, end of block).
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// A gzip member of `pieces` in order.
pub fn join<'a>(pieces: impl IntoIterator<Item = &'a Deflated>) -> Vec<u8> {
    let pieces: Vec<&Deflated> = pieces.into_iter().collect();
    let size = pieces.iter().map(|p| p.data.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size + HEADER.len() + FINAL_BLOCK.len() + 8);
    out.extend_from_slice(&HEADER);
    let mut crc = crc32fast::Hasher::new();
    let mut len = 0u64;
    for piece in pieces {
        out.extend_from_slice(&piece.data);
        crc.combine(&crc32fast::Hasher::new_with_initial_len(piece.crc, piece.len));
        len += piece.len;
    }
    out.extend_from_slice(&FINAL_BLOCK);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("a valid gzip member");
        out
    }

    #[test]
    fn pieces_join_into_one_valid_member() {
        let parts: Vec<Vec<u8>> = vec![
            b"<html><body>".to_vec(),
            Vec::new(),
            "<p>the same words again and again </p>".repeat(500).into_bytes(),
            (0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(),
            b"</body></html>".to_vec(),
        ];
        for level in [1, 6, 9] {
            let pieces: Vec<Deflated> = parts
                .iter()
                .enumerate()
                .map(|(i, p)| if i % 2 == 0 { Deflated::new(p, level) } else { Deflated::fast(p) })
                .collect();
            let joined = join(&pieces);
            assert_eq!(gunzip(&joined), parts.concat(), "level {level}");
        }
        assert_eq!(gunzip(&join([])), b"");
    }
}
