//! Free names in folders: `name.ext` if it is free, else `name (n).ext` one past the
//! highest `n` of that name seen — found in memory, each folder listed at most once, so a
//! name costs O(1) storage calls on average however many copies the folder holds (trying
//! ` (1)`, ` (2)`, … one storage call each made uploads into a full folder quadratic).
//!
//! Paths are kept as 64-bit hashes: a few bytes per name (about 16 MiB for a million).
//! Two paths with the same hash (odds about 1 in 10^7 at a million names) only cost one of
//! them a needless ` (n)`; the storage's own no-replace write is what never overwrites.

use std::{
    collections::{HashMap, HashSet},
    hash::{BuildHasher, BuildHasherDefault, DefaultHasher},
};

use super::paths;

#[derive(Default)]
pub struct FreeNames {
    /// Folders whose names are in `taken`.
    listed: HashSet<String>,
    /// Paths on storage or given out, by hash.
    taken: HashSet<u64>,
    /// The highest `n` of `stem (n).ext` taken, by the hash of the folder, stem and ext.
    highest: HashMap<u64, u32>,
}

fn key(text: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(text)
}

/// `dir/photo (3).jpg` → (key of `dir/photo` + `.jpg`, 3); `dir/photo.jpg` → (…, 0).
fn family(path: &str) -> (u64, u32) {
    let (dir, file) = (paths::parent(path), paths::name(path));
    let (stem, ext) = paths::split_ext(file);
    let numbered = stem
        .strip_suffix(')')
        .and_then(|s| s.rsplit_once(" ("))
        .filter(|(base, n)| !base.is_empty() && !n.is_empty() && !n.starts_with('0'))
        .and_then(|(base, n)| n.parse::<u32>().ok().map(|n| (base, n)));
    let (base, n) = numbered.unwrap_or((stem, 0));
    (key(&format!("{dir}/{base}\u{0}{ext}")), n)
}

impl FreeNames {
    /// Whether `folder`'s names are known.
    pub fn is_listed(&self, folder: &str) -> bool {
        self.listed.contains(folder)
    }

    /// Records what `folder` holds.
    pub fn learn(&mut self, folder: &str, names: impl IntoIterator<Item = String>) {
        for name in names {
            self.mark_taken(&paths::join(folder, &name));
        }
        self.listed.insert(folder.to_string());
    }

    /// A path found taken (on storage, or given to another file).
    pub fn mark_taken(&mut self, path: &str) {
        self.taken.insert(key(path));
        let (family, n) = family(path);
        if n > 0 {
            let highest = self.highest.entry(family).or_default();
            *highest = (*highest).max(n);
        }
    }

    /// `wanted` if it is not known to be taken, else the next `wanted (n).ext` past the
    /// highest known; either way it counts as taken from now on.
    pub fn take(&mut self, wanted: &str) -> String {
        if self.taken.insert(key(wanted)) {
            return wanted.to_string();
        }
        let (family, _) = family(wanted);
        let mut n = self.highest.get(&family).copied().unwrap_or(0);
        loop {
            n = n.saturating_add(1);
            let candidate = paths::numbered(wanted, n);
            // Usually the first try: only names shortened to fit 255 bytes, or hash
            // twins, fall outside the family's count.
            if self.taken.insert(key(&candidate)) {
                self.highest.insert(family, n);
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_past_the_highest_number_in_the_folder() {
        let mut names = FreeNames::default();
        names.learn(
            "docs",
            ["a.txt", "a (1).txt", "a (7).txt", "b.txt", "a (x).txt"].map(String::from),
        );
        assert_eq!(names.take("docs/c.txt"), "docs/c.txt");
        assert_eq!(names.take("docs/a.txt"), "docs/a (8).txt");
        assert_eq!(names.take("docs/a.txt"), "docs/a (9).txt");
        assert_eq!(names.take("docs/b.txt"), "docs/b (1).txt");
        // Another folder's numbers are its own.
        assert_eq!(names.take("other/a.txt"), "other/a.txt");
        assert_eq!(names.take("other/a.txt"), "other/a (1).txt");
    }

    #[test]
    fn ten_thousand_copies_take_one_step_each() {
        let mut names = FreeNames::default();
        let listing: Vec<String> = std::iter::once("x.bin".to_string())
            .chain((1..=10_000).map(|n| format!("x ({n}).bin")))
            .collect();
        names.learn("", listing);
        assert_eq!(names.take("x.bin"), "x (10001).bin");
    }

    #[test]
    fn long_names_stay_within_255_bytes() {
        let mut names = FreeNames::default();
        let long = format!("{}.txt", "é".repeat(125)); // 254 bytes
        names.learn("d", [long.clone()]);
        let next = names.take(&format!("d/{long}"));
        let file = paths::name(&next);
        assert!(file.len() <= 255, "{} bytes", file.len());
        assert!(file.ends_with(" (1).txt"), "{file}");
        assert_ne!(names.take(&format!("d/{long}")), next);
    }
}
