#!/usr/bin/env python3
"""Writes a reproducible test tree for the benchmarks: N files in nested folders, a quarter
of them byte-identical copies (at many sizes, up to ~1 MB), a few empty files, unicode names.

    python3 bench/make_tree.py <folder> [files]
"""
import os
import random
import sys

root = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
rng = random.Random(1)
exts = ["jpg", "pdf", "txt", "mp3", "zip", "rs", "csv", "bin", "", "docx"]
groups = max(1, count // 7)
for i in range(count):
    folder = os.path.join(root, f"d{i % 40}", f"s{i % 7}")
    os.makedirs(folder, exist_ok=True)
    ext = exts[i % len(exts)]
    name = f"file {i} ünï" + (f".{ext}" if ext else "")
    if i % 4 == 0:
        # A copy: the same key always gives the same bytes.
        key = i % groups
        size = 1 + (key * 7919) % 1_000_000 if key % 10 == 0 else 1 + (key * 7919) % 20_000
        content = random.Random(key).randbytes(size)
    else:
        content = rng.randbytes(1 + rng.randrange(20_000))
    with open(os.path.join(folder, name), "wb") as f:
        f.write(content)
    if i % 500 == 0:
        open(os.path.join(folder, f"empty {i}"), "wb").close()
