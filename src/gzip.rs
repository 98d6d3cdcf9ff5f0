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
        Deflated::after(plain, &[], level)
    }

    /// Compresses `plain` to follow `before`: it may refer to `before`'s bytes (the
    /// last 32 KiB of them), so it is only valid right after a piece that decompresses
    /// to exactly `before`. Pieces compressed apart lose what the text before them
    /// would have taught the compressor; this keeps it.
    pub fn after(plain: &[u8], before: &[u8], level: u32) -> Deflated {
        let mut compress = Compress::new(Compression::new(level), false);
        Deflated::with(&mut compress, plain, before)
    }

    /// [`Deflated::after`] with a fast compressor of this thread, for pieces made per
    /// request. Only the last KiB of `before` is given to the compressor: taking in a
    /// dictionary costs about as much as compressing it, and the markup that repeats
    /// is near.
    pub fn fast_after(plain: &[u8], before: &[u8]) -> Deflated {
        const NEAR: usize = 1024;
        let before = &before[before.len().saturating_sub(NEAR)..];
        thread_local! {
            static FAST: std::cell::RefCell<Compress> = std::cell::RefCell::new(Compress::new(Compression::new(1), false));
        }
        FAST.with(|c| {
            let mut compress = c.borrow_mut();
            compress.reset();
            Deflated::with(&mut compress, plain, before)
        })
    }

    /// `plain` in stored blocks, not compressed: for a few bytes made per request, which
    /// compressing would cost more than it saves.
    pub fn stored(plain: &[u8]) -> Deflated {
        let mut data = Vec::with_capacity(plain.len() + 5 * (plain.len() / 65_535 + 1));
        for block in plain.chunks(65_535) {
            // Not final, stored; the rest of the byte is padding.
            data.push(0);
            let len = block.len() as u16;
            data.extend_from_slice(&len.to_le_bytes());
            data.extend_from_slice(&(!len).to_le_bytes());
            data.extend_from_slice(block);
        }
        Deflated { data, crc: crc32fast::hash(plain), len: plain.len() as u64 }
    }

    /// [`Deflated::fast_after`] with nothing before.
    pub fn fast(plain: &[u8]) -> Deflated {
        Deflated::fast_after(plain, &[])
    }

    fn with(compress: &mut Compress, plain: &[u8], before: &[u8]) -> Deflated {
        const WINDOW: usize = 32 * 1024;
        if !before.is_empty() {
            let start = before.len().saturating_sub(WINDOW);
            compress.set_dictionary(&before[start..]).expect("a dictionary before any input");
        }
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
    let mut crc = crc32fast::Hasher::new();
    for piece in &pieces {
        crc.combine(&crc32fast::Hasher::new_with_initial_len(piece.crc, piece.len));
    }
    let len = pieces.iter().map(|p| p.len).sum();
    join_checked(pieces, crc.finalize(), len)
}

/// [`join`] with the CRC-32 and length of the whole already known (see [`CrcShift`]).
pub fn join_checked<'a>(pieces: impl IntoIterator<Item = &'a Deflated>, crc: u32, len: u64) -> Vec<u8> {
    let pieces: Vec<&Deflated> = pieces.into_iter().collect();
    let size = pieces.iter().map(|p| p.data.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size + HEADER.len() + FINAL_BLOCK.len() + 8);
    out.extend_from_slice(&HEADER);
    for piece in &pieces {
        out.extend_from_slice(&piece.data);
    }
    out.extend_from_slice(&FINAL_BLOCK);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out
}

/// The CRC-32 of text followed by `len` more bytes, from the two CRCs: the operator
/// for `len` (x^(8·len) modulo the CRC's polynomial), made once and applied with a
/// single carry-less multiplication per join (zlib's `crc32_combine_gen` and
/// `crc32_combine_op`). A page joined from many kept pieces thus needs no hashing of
/// their text.
#[derive(Debug, Clone, Copy)]
pub struct CrcShift(u32);

/// The CRC-32 polynomial, reflected.
const POLY: u32 = 0xedb8_8320;

/// a·b modulo the polynomial, both reflected.
const fn multmodp(a: u32, mut b: u32) -> u32 {
    let mut m: u32 = 1 << 31;
    let mut p: u32 = 0;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// x^(8·2^k) modulo the polynomial, for k from 0: the operator of 2^k bytes.
const BYTE_POWERS: [u32; 64] = {
    let mut table = [0u32; 64];
    let mut power = 1u32 << (31 - 8); // x^8
    let mut k = 0;
    while k < 64 {
        table[k] = power;
        power = multmodp(power, power);
        k += 1;
    }
    table
};

impl CrcShift {
    /// The operator for `len` bytes: one multiplication per bit set in `len`.
    pub fn of_len(len: u64) -> CrcShift {
        let mut shift = 1u32 << 31; // 1
        let mut n = len;
        let mut k = 0;
        while n != 0 {
            if n & 1 != 0 {
                shift = multmodp(BYTE_POWERS[k], shift);
            }
            n >>= 1;
            k += 1;
        }
        CrcShift(shift)
    }

    /// The CRC of A then B, from A's and B's (B `len` bytes long, this `len`).
    pub fn join(self, a: u32, b: u32) -> u32 {
        multmodp(self.0, a) ^ b
    }
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
    fn crcs_join_as_the_text_does() {
        let text: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        for cut in [0, 1, 7, 8, 255, 4096, 12_345, 20_000] {
            let (a, b) = text.split_at(cut);
            let joined = CrcShift::of_len(b.len() as u64).join(crc32fast::hash(a), crc32fast::hash(b));
            assert_eq!(joined, crc32fast::hash(&text), "cut at {cut}");
        }
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
                .map(|(i, p)| match i % 3 {
                    0 => Deflated::new(p, level),
                    1 => Deflated::fast(p),
                    _ => Deflated::stored(p),
                })
                .collect();
            let joined = join(&pieces);
            assert_eq!(gunzip(&joined), parts.concat(), "level {level}");
        }
        assert_eq!(gunzip(&join([])), b"");
        // More than one stored block's worth.
        assert_eq!(
            gunzip(&join([&Deflated::stored(&parts[3]), &Deflated::fast(&parts[4])])),
            [&parts[3][..], &parts[4]].concat()
        );
    }

    #[test]
    fn a_piece_compressed_after_another_refers_to_it() {
        let first = "<li class=\"comment\">the same words again and again</li>".repeat(40).into_bytes();
        let second = "<li class=\"comment\">the same words again and again</li>".repeat(3).into_bytes();
        let big: Vec<u8> = (0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for level in [1, 6] {
            let alone = Deflated::new(&second, level);
            let linked = Deflated::after(&second, &first, level);
            assert!(
                linked.data.len() < alone.data.len() / 2,
                "level {level}: {} ≥ {}",
                linked.data.len(),
                alone.data.len()
            );
            let joined = join([&Deflated::new(&first, level), &linked]);
            assert_eq!(gunzip(&joined), [first.clone(), second.clone()].concat(), "level {level}");
            // A dictionary longer than the window: its last 32 KiB count.
            let before = [big.clone(), first.clone()].concat();
            let joined = join([&Deflated::new(&before, level), &Deflated::fast_after(&second, &before)]);
            assert_eq!(gunzip(&joined), [before.clone(), second.clone()].concat(), "level {level}");
        }
    }
}
