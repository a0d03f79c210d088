//! File trees several engine tests arrange, and what they compare trees by.

use std::collections::BTreeMap;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
];

/// An untidy inbox: every category, a name clash, non-ASCII names, no extension, an empty
/// file, a dotfile, a file already in place, and a file outside the inbox.
pub const SAMPLE_TREE: &[(&str, &[u8])] = &[
    ("inbox/holiday photo.jpg", b"jpeg bytes 1"),
    ("inbox/nested/deeper/holiday photo.jpg", b"jpeg bytes 2"),
    ("inbox/Überweisung März.pdf", b"%PDF-1.4 invoice"),
    ("inbox/日本語 ノート.txt", "こんにちは".as_bytes()),
    ("inbox/song.mp3", b"ID3 music"),
    ("inbox/no extension picture", PNG),
    ("inbox/archive.tar.gz", b"gz"),
    ("inbox/empty.txt", b""),
    ("inbox/.hidden", b"secret dotfile"),
    ("inbox/Documents/already.pdf", b"%PDF in place"),
    ("elsewhere/untouched.jpg", b"outside the root"),
];

/// The multiset of contents, which any move must keep.
pub fn contents(tree: &BTreeMap<String, String>) -> Vec<String> {
    let mut hashes: Vec<String> = tree.values().cloned().collect();
    hashes.sort();
    hashes
}
