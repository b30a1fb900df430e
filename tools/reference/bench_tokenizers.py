#!/usr/bin/env python3
"""Speed reference for the Java tokenizer: HuggingFace `tokenizers` on ~10 MB of English text.

Builds the benchmark text deterministically from ../shared/data/gemma_rewrites.csv (original and
rewritten texts, shuffled with a fixed seed and repeated to 10 MB; written to a temp file, never
committed), then times encode_batch with the GPT-2 byte-level BPE and the Mistral tokenizer.json.

Run (from the repository root):
    RAYON_NUM_THREADS=1 /work/venv/ref/bin/python tools/reference/bench_tokenizers.py /tmp/bench10mb.txt
    RAYON_NUM_THREADS=2 /work/venv/ref/bin/python tools/reference/bench_tokenizers.py /tmp/bench10mb.txt
then the Java side on the same file (see tokenizer/src/test/java/.../TokenizerBench.java):
    java -cp tokenizer/target/classes:tokenizer/target/test-classes:$(cat cp.txt) \
        org.promptrecovery4j.tokenizer.TokenizerBench /tmp/bench10mb.txt 1
"""
import csv
import os
import random
import sys
import time

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")


def make_corpus(path, size=10 * 1024 * 1024, seed=42):
    if os.path.exists(path) and os.path.getsize(path) >= size:
        return
    rows = list(csv.DictReader(open(os.path.join(SHARED, "data", "gemma_rewrites.csv"), encoding="utf-8")))
    texts = [r["original_text"] for r in rows] + [r["rewritten_text"] for r in rows]
    texts = [t.replace("\r", " ").replace("\n", " ").strip() for t in texts if t and t.strip()]
    rng = random.Random(seed)
    out, n = [], 0
    while n < size:
        rng.shuffle(texts)
        for t in texts:
            out.append(t)
            n += len(t.encode("utf-8")) + 1
            if n >= size:
                break
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/bench10mb.txt"
    make_corpus(path)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    docs = open(path, encoding="utf-8").read().split("\n")[:-1]
    ct = os.path.join(SHARED, "conformance", "tokenizers")
    gpt2 = Tokenizer(models.BPE.from_file(os.path.join(ct, "gpt2", "encoder.json"), os.path.join(ct, "gpt2", "vocab.bpe")))
    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    gpt2.decoder = decoders.ByteLevel()
    mistral = Tokenizer.from_file(os.path.join(ct, "mistral-7b-instruct-v0.2", "tokenizer.json"))
    mb = os.path.getsize(path) / 1e6
    for name, tok in [("gpt2", gpt2), ("mistral", mistral)]:
        tok.encode_batch(docs[:200], add_special_tokens=False)
        best = None
        for _ in range(2):
            t0 = time.perf_counter()
            encs = tok.encode_batch(docs, add_special_tokens=False)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        ntok = sum(len(e.ids) for e in encs)
        print(f"python-tokenizers {name}: {len(docs)} docs, {mb:.1f} MB, {ntok} tokens, {best:.2f} s, "
              f"{ntok / best:,.0f} tokens/s (RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'all')})")


if __name__ == "__main__":
    main()
