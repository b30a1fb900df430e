#!/usr/bin/env python3
"""Reference fixtures for the Java tokenizer module (PromptRecovery4J).

Trains tiny tokenizers with HuggingFace `tokenizers` and `sentencepiece` on a synthetic corpus
written in this script, and records what those libraries give (ids, tokens, decodes) for hard
strings. The Java tests (tokenizer/src/test/.../FixtureTest.java) must reproduce them exactly.

Rerun (from the repository root; deterministic, needs no network):
    /work/venv/ref/bin/python tools/reference/tokenizers_fixtures.py
  (any Python with tokenizers>=0.20 and sentencepiece works). Writes into fixtures/tokenizers/.
"""
import base64
import io
import json
import os
import random

# single-threaded training: the trainers are only reproducible without parallelism
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import sentencepiece as spm
from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "tokenizers")

WORDS = ("the quick brown fox jumps over lazy dog rewrite this text as a poem make it formal "
         "shorter longer friendly tone summarize letter email story about weather cafe "
         "résumé naïve café façade über straße 東京 生活 真谛 emoji 🦙 llama alpaca "
         "def main return pass print import class self value index token model "
         "don't can't won't it's we're they've I'm you'll 2016 1.00 $5 €4 £3 "
         "hello world again please kindly improve grammar clarity concise vivid").split()


SYLLABLES = "ka lo mi ra ten sor vi an el ust ing er pre con tion ble ment ous ly al ize qua fre dom".split()


def corpus(n=3000, seed=7):
    rng = random.Random(seed)
    words = WORDS + ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(400)]
    lines = []
    for _ in range(n):
        k = rng.randint(3, 14)
        ws = [rng.choice(words) for _ in range(k)]
        if rng.random() < 0.3:
            ws[0] = ws[0].capitalize()
        sep = rng.choice([" ", " ", " ", "  ", "\t", "\n"])
        line = sep.join(ws) + rng.choice([".", "!", "?", ",", ""])
        if rng.random() < 0.1:
            line = "    " + line + "\n\tpass"
        lines.append(line)
    return lines


HARD = [
    "", " ", "   ", "\t", "\n", " \n ", "\n\n\n", "a\tb\t\tc", "Hello World", "hello  world",
    "  leading and trailing  ", "The quick brown fox jumps over the lazy dog.",
    "café résumé naïve façade", "cafe\u0301 re\u0301sume\u0301", "Ａｂｃ１２３ ﬁ ½ ㎏ ™ …",
    "ŉ ǅ Å Ω ﬃ", "東京 生活的真谛是", "🦙 alpaca 🦙🦙", "👍🏽 👨‍👩‍👧 🇫🇷",
    "emoji\U0001F600surrogate", "don't can't won't it's", "$1.00 €4 £5 ¥6 ₣7 ₹8",
    "def main():\n\tpass\n", "    indented    code    ", "x" * 300,
    "supercalifragilisticexpialidocious" * 3, "Rewrite this text as a poem, please!",
    "MiXeD CaSe WoRdS", "a\u00a0b\u00a0\u00a0c", "zero\u200bwidth", "tab\tand\u3000ideographic space",
    "line1\r\nline2\rline3", "a\u2028b\u000bc\u0085d\u00a0e\u2029f\u000cg\u200dh", "ß ẞ İ ı", "Ǆ ǆ", "mathematical 𝐀𝐁𝐂 𝟏𝟐𝟑", "control\x07char\x1b",
    "ends with space ", "<s> not special </s>", "12345678901234567890",
    "\u2581meta \u2581symbols \u2581in text", "dots\u2026\u00a0\u00a0", "wide \uff5e tilde", " \n", "\n\t\n",
    "x\n####\ny", "\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3", "\u0939\u093f\u0928\u094d\u0926\u0940 \u20dd\u0041\u20dd", "\U0001F999\uA64A", "i\u0307 I\u0307 \u0130stanbul", "\u00c5ngstr\u00f6m \u212b",
]


def write(name, obj):
    """Compact JSON, one case per line (small, still diffable)."""
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write("{\n")
        keys = sorted(obj)
        for k, key in enumerate(keys):
            v = obj[key]
            f.write(json.dumps(key) + ": ")
            if isinstance(v, list):
                f.write("[\n" + ",\n".join(json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                                          for x in v) + "\n]")
            else:
                f.write(json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
            f.write(",\n" if k + 1 < len(keys) else "\n")
        f.write("}\n")


def hf_cases(tok, strings):
    cases = []
    for s in strings:
        e = tok.encode(s)
        e0 = tok.encode(s, add_special_tokens=False)
        cases.append({
            "input": s, "ids": e.ids, "tokens": e.tokens, "ids_no_special": e0.ids,
            "decoded": tok.decode(e.ids, skip_special_tokens=True),
            "decoded_with_special": tok.decode(e.ids, skip_special_tokens=False),
        })
    pair = tok.encode("first text here", "second one")
    return {"cases": cases, "pair": {"a": "first text here", "b": "second one", "ids": pair.ids,
                                     "type_ids": pair.type_ids}}


def spm_unigram_t5(lines):
    """A T5-like SentencePiece Unigram (nmt_nfkc; <pad>=0 </s>=1 <unk>=2, no <s>)."""
    m = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=m, minloglevel=2, vocab_size=600,
                                   model_type="unigram", normalization_rule_name="nmt_nfkc",
                                   pad_id=0, eos_id=1, unk_id=2, bos_id=-1, num_threads=1,
                                   seed_sentencepiece_size=5000)
    from sentencepiece import sentencepiece_model_pb2 as pb
    p = pb.ModelProto()
    p.ParseFromString(m.getvalue())
    return p


def t5_like(lines):
    """Unigram + Precompiled + Metaspace + '$A </s>', built from a SentencePiece model the way
    t5-base's tokenizer.json was (same structure: Precompiled+Replace normalizer, WhitespaceSplit +
    Metaspace pre-tokenizer, TemplateProcessing appending </s>, Metaspace decoder)."""
    p = spm_unigram_t5(lines)
    vocab = [(x.piece, x.score) for x in p.pieces]
    tok = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    j = json.loads(tok.to_str())
    cm = base64.b64encode(p.normalizer_spec.precompiled_charsmap).decode("ascii")
    j["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Precompiled", "precompiled_charsmap": cm},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"},
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}]}
    j["post_processor"] = {"type": "TemplateProcessing",
                           "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}}
    j["decoder"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
    tok = Tokenizer.from_str(json.dumps(j))
    tok.add_special_tokens([AddedToken("<pad>", special=True), AddedToken("</s>", special=True),
                            AddedToken("<unk>", special=True)])
    tok.add_special_tokens([AddedToken("<extra_id_0>", special=True), AddedToken("<extra_id_1>", special=True)])
    return tok


def spm_unigram_bytes(lines):
    """A SentencePiece Unigram with byte fallback and no normalization (Gemma-like)."""
    m = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=m, minloglevel=2, vocab_size=700,
                                   model_type="unigram", normalization_rule_name="identity", byte_fallback=True,
                                   remove_extra_whitespaces=False, num_threads=1, seed_sentencepiece_size=5000)
    from sentencepiece import sentencepiece_model_pb2 as pb
    p = pb.ModelProto()
    p.ParseFromString(m.getvalue())
    return p


def unigram_bytes(lines):
    """Unigram with byte_fallback in a tokenizer.json (Replace/Prepend normalizer, ByteFallback decoder)."""
    p = spm_unigram_bytes(lines)
    tok = Tokenizer(models.Unigram([(x.piece, x.score) for x in p.pieces], unk_id=0, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.add_special_tokens([AddedToken("<unk>", special=True), AddedToken("<s>", special=True),
                            AddedToken("</s>", special=True)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    return tok


def unigram_bytes_spm(lines):
    """The same SentencePiece model as a .model file (LlamaTokenizer-like use: <s> A)."""
    data = spm_unigram_bytes(lines).SerializeToString()
    sp = spm.SentencePieceProcessor(model_proto=data)
    return data, {"cases": slow_cases(sp, ["<unk>", "<s>", "</s>"], [1], [])}


def simple_bpe(lines, pre, vocab_size, specials, prefix=None):
    """A tiny deterministic BPE trainer (ties broken by the pair's text): HF's trainers are not
    reproducible run to run. `pre` splits a line into words."""
    from collections import Counter
    words = Counter()
    for l in lines:
        for w in pre(l):
            words[w] += 1
    def split(w):
        cs = list(w)
        return tuple([cs[0]] + [(prefix or "") + c for c in cs[1:]])
    seqs = {w: split(w) for w in sorted(words)}
    vocab = list(specials)
    for sq in seqs.values():
        for c in sq:
            if c not in vocab:
                vocab.append(c)
    merges = []
    while len(vocab) < vocab_size:
        pairs = Counter()
        for w, sq in seqs.items():
            for a, b in zip(sq, sq[1:]):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        (a, b), _ = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        new = a + (b[len(prefix):] if prefix and b.startswith(prefix) else b)
        merges.append((a, b))
        if new not in vocab:
            vocab.append(new)
        for w, sq in seqs.items():
            out, i = [], 0
            while i < len(sq):
                if i + 1 < len(sq) and sq[i] == a and sq[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(sq[i])
                    i += 1
            seqs[w] = tuple(out)
    return {t: i for i, t in enumerate(vocab)}, merges


def phi2_like(lines):
    """Byte-level BPE with CodeGen-style added whitespace tokens (non-special)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer)
    tok.add_tokens([AddedToken(" " * n, normalized=True) for n in range(8, 1, -1)]
                   + [AddedToken("\t" * n, normalized=True) for n in range(4, 1, -1)])
    tok.add_tokens([AddedToken("<|lstrip|>", lstrip=True, special=False), AddedToken("<|rstrip|>", rstrip=True)])
    tok.add_special_tokens([AddedToken("<|im_end|>", special=True)])
    return tok


LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def llama3_like(lines):
    """Llama-3 / Qwen style: Split(regex) + ByteLevel(use_regex=false), ignore_merges, BOS template."""
    base = json.loads(phi2_like(lines).to_str())
    tok = Tokenizer(models.BPE())
    j = json.loads(tok.to_str())
    j["model"] = base["model"]
    j["model"]["ignore_merges"] = True
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    j["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    tok = Tokenizer.from_str(json.dumps(j))
    tok.add_special_tokens([AddedToken("<|begin_of_text|>", special=True), AddedToken("<|eot_id|>", special=True)])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    return tok


def mistral_like(lines):
    """BPE with byte fallback, Mistral's normalizer / decoder / '<s> $A' template."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    bytes_ = ["<0x%02X>" % b for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=900, special_tokens=["<unk>", "<s>", "</s>"] + bytes_)
    tok.train_from_iterator([("▁" + l.replace(" ", "▁")) for l in lines], trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    return tok


def wordpiece(lines):
    norm = normalizers.BertNormalizer(lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    vocab, _ = simple_bpe(lines, lambda l: [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(l))], 600,
                          ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], prefix="##")
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=40))
    tok.normalizer = norm
    tok.pre_tokenizer = pre
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


def misc_pipeline(lines):
    """Exercises the other normalizers / pre-tokenizers / decoders on a small BPE."""
    norm = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase(),
                                 normalizers.Strip(), normalizers.Replace(Regex("[0-9]+"), "#")])
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation(behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.Split(pattern="'", behavior="merged_with_next")])
    vocab, merges = simple_bpe(lines, lambda l: [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(l))], 500,
                               ["[UNK]", "[CLS]", "[SEP]"], prefix="##")
    tok = Tokenizer(models.BPE(vocab, merges, unk_token="[UNK]", continuing_subword_prefix="##"))
    tok.normalizer = norm
    tok.pre_tokenizer = pre
    tok.add_special_tokens(["[UNK]", "[CLS]", "[SEP]"])
    tok.post_processor = processors.RobertaProcessing(("[SEP]", 2), ("[CLS]", 1))
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


def slow_cases(sp, specials, prefix, suffix, extra=None, strip=False):
    """What transformers' slow SentencePiece tokenizers do: split the text on the special tokens
    (leftmost-longest), sp.encode each other piece, add prefix/suffix ids; decode without the
    special ids = sp.decode of the rest."""
    extra = extra or {}
    ids_of = {t: sp.piece_to_id(t) for t in specials}
    ids_of.update(extra)
    specials = list(ids_of)
    special_ids = set(ids_of.values())
    cases = []
    for text in HARD + ["<s> not special </s>", "x[CLS]y [SEP] z", "<unk>[UNK]", "a<extra_id_0>b <extra_id_1>"]:
        ids = []
        pieces = []  # as tokenize() gives them: unknown pieces keep their text
        i = 0
        buf = ""
        while i < len(text):
            m = max((t for t in specials if text.startswith(t, i)), key=len, default=None)
            if m is None:
                buf += text[i]
                i += 1
                continue
            if buf:
                ids += sp.encode(buf)
                pieces += sp.encode(buf, out_type=str)
                buf = ""
            ids.append(ids_of[m])
            pieces.append(m)
            i += len(m)
        if buf:
            ids += sp.encode(buf)
            pieces += sp.encode(buf, out_type=str)
        # T5Tokenizer adds EOS only when the text does not already end with it
        full = prefix + ids + ([] if suffix and ids[-1:] == suffix[-1:] else suffix)
        dec = sp.decode([i for i in full if i not in special_ids])
        cases.append({"input": text, "ids": full, "ids_no_special": ids,
                      "tokens": pieces,
                      "decoded": dec.strip() if strip else dec})
    return cases


def deberta_like(lines):
    """A DeBERTa-v3-like SentencePiece Unigram spm.model; reference = [CLS] sp.encode(text) [SEP]."""
    m = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=m, minloglevel=2, vocab_size=500,
                                   model_type="unigram", normalization_rule_name="nmt_nfkc",
                                   pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]", bos_piece="[CLS]",
                                   eos_piece="[SEP]", unk_piece="[UNK]", num_threads=1, byte_fallback=False,
                                   seed_sentencepiece_size=5000)
    data = m.getvalue()
    sp = spm.SentencePieceProcessor(model_proto=data)
    # DebertaV2Tokenizer strips the decoded text
    return data, {"cases": slow_cases(sp, ["[PAD]", "[CLS]", "[SEP]", "[UNK]"], [1], [2], strip=True)}


def t5_spm(lines):
    """The T5-like SentencePiece model itself, as T5Tokenizer (slow) uses it: A </s>, with the
    <extra_id_N> tokens (id = vocab size + 99 - N) that T5Tokenizer adds."""
    data = spm_unigram_t5(lines).SerializeToString()
    sp = spm.SentencePieceProcessor(model_proto=data)
    n = sp.get_piece_size()
    extra = {"<extra_id_%d>" % i: n + 99 - i for i in range(100)}
    # T5Tokenizer strips the decoded text
    # TensorFlow's sentence-t5 (the Kaggle metric) runs SentencePiece itself: special tokens written in the
    # text are plain characters there (control pieces are never matched); </s> is appended after
    as_text = ["Rewrite </s> this", "</s>", "a<pad>b <unk> c", "<extra_id_0> poem", "Make it </s></s> shorter."]
    return data, {"cases": slow_cases(sp, ["<pad>", "</s>", "<unk>"], [], [1], extra, strip=True),
                  "specials_as_text": [{"input": s, "sp_ids": sp.encode(s)} for s in as_text]}


def llama_bpe_spm(lines):
    """A Llama/Mistral-like SentencePiece BPE with byte fallback; reference = <s> sp.encode(text)."""
    m = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=m, minloglevel=2, vocab_size=600,
                                   model_type="bpe", normalization_rule_name="identity", byte_fallback=True,
                                   remove_extra_whitespaces=False, split_digits=True, num_threads=1,
                                   allow_whitespace_only_pieces=True)
    data = m.getvalue()
    sp = spm.SentencePieceProcessor(model_proto=data)
    return data, {"cases": slow_cases(sp, ["<unk>", "<s>", "</s>"], [1], [])}


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = corpus()
    for name, build in [("t5-like", t5_like), ("phi2-like", phi2_like), ("mistral-like", mistral_like),
                        ("llama3-like", llama3_like), ("unigram-bytes", unigram_bytes),
                        ("wordpiece", wordpiece), ("misc-pipeline", misc_pipeline)]:
        tok = build(lines)
        tok.save(os.path.join(OUT, name + ".tokenizer.json"), pretty=False)
        strings = HARD + ["x <|im_end|> y", "a <|lstrip|> b <|rstrip|>  c", "<extra_id_0> hi<extra_id_1>",
                          "[CLS] a [SEP]", "<s>x</s>", "I'M SURE YOU'LL", "1234567 abc\r\n\r\n  x",
                          "<|begin_of_text|>hi<|eot_id|>"]
        write(name + ".vectors.json", hf_cases(tok, strings))
    # the older T5 / sentence-t5 layout: Metaspace alone (add_prefix_space), no WhitespaceSplit; only
    # the vectors are written, the Java test derives this tokenizer.json from t5-like's
    j = json.loads(t5_like(lines).to_str())
    j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "add_prefix_space": True}
    j["decoder"] = {"type": "Metaspace", "replacement": "▁", "add_prefix_space": True}
    write("t5-like-old.vectors.json", hf_cases(Tokenizer.from_str(json.dumps(j)), strings))
    for name, build in [("deberta-like", deberta_like), ("llama-bpe", llama_bpe_spm), ("t5-spm", t5_spm),
                        ("unigram-bytes-spm", unigram_bytes_spm)]:
        data, vec = build(lines)
        with open(os.path.join(OUT, name + ".model"), "wb") as f:
            f.write(data)
        write(name + ".vectors.json", vec)


if __name__ == "__main__":
    main()
