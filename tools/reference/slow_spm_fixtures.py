#!/usr/bin/env python3
"""Reference vectors from transformers' *slow* SentencePiece tokenizers (LlamaTokenizer legacy,
T5Tokenizer, DebertaV2Tokenizer) on the .model fixtures, for random strings mixing letters,
whitespace, Unicode oddities and special-token text. transformers 5 has no slow tokenizers, so
this needs transformers 4.57 (the last 4.x); the rest of the environment is the reference venv.

Rerun (from the repository root, after tokenizers_fixtures.py):
    /work/venv/ref/bin/python -m venv --system-site-packages /tmp/v457
    /tmp/v457/bin/pip install --no-deps --index-url file:///opt/pypi/simple \\
        --extra-index-url file:///opt/pypi-more/simple transformers==4.57.6
    # transformers 4.57 pins tokenizers<=0.23.0 and huggingface-hub<1.0 at import time; the slow
    # tokenizers use neither, so relax the two pins in its dependency_versions_table.py:
    sed -i 's/"tokenizers>=0.22.0,<=0.23.0"/"tokenizers>=0.22.0"/; s/"huggingface-hub>=0.34.0,<1.0"/"huggingface-hub>=0.34.0"/' \\
        /tmp/v457/lib/python3.11/site-packages/transformers/dependency_versions_table.py
    PYTHONPATH=/tmp/v457/lib/python3.11/site-packages:$(echo /work/venv/ref/lib/python3*/site-packages) \\
        /tmp/v457/bin/python tools/reference/slow_spm_fixtures.py
Writes fixtures/tokenizers/slow-spm.vectors.json (deterministic).
"""
import json
import os
import random

from transformers import DebertaV2Tokenizer, LlamaTokenizer, T5Tokenizer

F = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "tokenizers")

POOL = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 3
        + list(" " * 20 + "\t\n\r.,;:!?'\"-_()[]{}<>/\\|@#$%^&*+=~`")
        + ["é", "e\u0301", "ß", "İ", "Σ", "ﬁ", "½", "Ａ", "東", "的", "😀", "🦙", "👍🏽", "\u200d", "\u00a0",
           "\u3000", "\u2028", "▁", "\ufffd", "<s>", "</s>", "<unk>", "<pad>", "[CLS]", "[SEP]", "[UNK]",
           "[MASK]", "<extra_id_0>", "<extra_id_1>", "  ", "   ", "'s", "123", "don't"])


def main():
    rng = random.Random(2024)
    strings = ["".join(rng.choice(POOL) for _ in range(rng.randint(0, 30))) for _ in range(150)]
    toks = {
        "deberta-like": DebertaV2Tokenizer(os.path.join(F, "deberta-like.model")),
        "t5-spm": T5Tokenizer(os.path.join(F, "t5-spm.model"), legacy=True),
        # add_prefix_space=False: the decode of the transformers release the Mistral vectors come from
        "llama-bpe": LlamaTokenizer(os.path.join(F, "llama-bpe.model"), legacy=True, add_prefix_space=False),
    }
    out = {"strings": strings}
    for name, t in toks.items():
        cases = []
        for s in strings:
            ids = t.encode(s)
            cases.append({"ids": ids, "tokens": t.tokenize(s),
                          "decoded": t.decode(ids, skip_special_tokens=True),
                          "decoded_with_special": t.decode(ids, skip_special_tokens=False)})
        out[name] = cases
    with open(os.path.join(F, "slow-spm.vectors.json"), "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(json.dumps(k) + ": [\n" + ",\n".join(
            json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for x in out[k]) + "\n]"
            for k in sorted(out)) + "\n}\n")


if __name__ == "__main__":
    main()
