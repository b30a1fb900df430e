"""End-to-end fixtures: text -> tokenizer -> tiny random model -> result, as HuggingFace gives it.

The other model fixtures are tested on token ids; these folders also carry a tokenizer (the tiny
trained ones of fixtures/tokenizers/, made by tokenizers_fixtures.py), so the Java CLI can be run from
text and compared with transformers / sentence-transformers from text.

- fixtures/sentence-t5-tiny-text/   sentence-transformers folder: T5 encoder (vocab = the t5-like
      tokenizer's 602 ids), mean Pooling, Dense (no bias, Identity), Normalize; tokenizer.json (copy of
      t5-like.tokenizer.json) and a tokenizer_config.json shaped like sentence-t5-base's (T5Tokenizer,
      </s> eos, <pad>, <unk>, extra ids); max_seq_length 16 so truncation matters.
      expected.json: {"texts", "input_ids" (HF's, truncated), "embeddings" [N, D] (sentence-transformers'
      encode when it loads the folder, checked against a by-hand Transformer -> mean -> Dense -> normalize),
      "pairs": [{"predicted", "truth", "score"}], "mean_score"} with score = cos^3 as the Kaggle metric.
- fixtures/tiny-mistral-text/       MistralForCausalLM (vocab = the mistral-like tokenizer's 900 ids),
      tokenizer.json (mistral-like: BPE + byte fallback, Prepend normalizer), tokenizer_config.json with
      the Mistral-7B-Instruct-v0.2 [INST] chat template (first published revision).
- fixtures/tiny-phi-text/           PhiForCausalLM (vocab = the phi2-like tokenizer's 713 ids), tokenizer.json
      (phi2-like: byte-level BPE, whitespace added tokens).
      expected.json (both decoders): cases {"prompt", "chat", "prompt_ids", "generated_ids", "text",
      "min_gap"}: prompt ids as tokenizer(prompt) (add_special_tokens=True) or
      apply_chat_template([user turn], tokenize=True, add_generation_prompt=True) gives them, HF greedy
      generate (8 new tokens, EOS not stopping) and decode(generated, skip_special_tokens=True).
      The seed is the first from a fixed list where every step's top-1/top-2 logit gap is > MIN_GAP.

tokenizer_class: transformers 5 rebuilds LlamaTokenizer / CodeGenTokenizer-class tokenizers from their
vocabulary (e.g. a Metaspace pre-tokenizer instead of tokenizer.json's Prepend normalizer, which differs after
a special token followed by a space). The decoder folders say PreTrainedTokenizerFast so transformers uses
tokenizer.json as it is, which is what the Java tokenizer follows. The script asserts that transformers'
ids equal the raw `tokenizers` ones for every prompt, so a silent rebuild cannot slip into the fixtures.

Rerun: /work/venv/ref/bin/python tools/reference/generate.py e2e
"""
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from transformers import (AutoTokenizer, MistralConfig, MistralForCausalLM, PhiConfig, PhiForCausalLM,
                          T5Config, T5EncoderModel)

from common import FIXTURES, fresh_dir, seed_all, write_json
from encoders_fixtures import _randomize, _tidy

TOKENIZERS = os.path.join(FIXTURES, "tokenizers")
MAX_NEW = 8
MIN_GAP = 0.02

# -------------------------------------------------------------------------------------------- sentence-t5

ST_MAX_SEQ = 16
ST_TEXTS = [
    "Rewrite this text as a poem.",
    "  leading and trailing  spaces  ",
    "café résumé naïve façade",
    "cafe\u0301 re\u0301sume\u0301",  # combining accents: the Precompiled normalizer composes them
    "line one\nline two\n\nthree",
    "tab\tseparated\t\tvalues",
    "Make it formal, please! It's about the weather in 2016 ($5).",
    "The quick brown fox jumps over the lazy dog; rewrite this text as a friendly letter about the cafe.",
    "Ａｂｃ１２３ ﬁ ½ … 東京",
    "</s> a literal end token and <extra_id_0> inside",
    "x",
    "",
    "   ",
    "Improve the grammar and clarity of this email to make it more concise and vivid for the reader.",
]
ST_PAIRS = [  # (predicted, truth) for the metric; texts from ST_TEXTS and a few more
    ("Rewrite this text as a poem.", "Rewrite this text as a poem."),
    ("Make it formal.", "Make it formal, please! It's about the weather in 2016 ($5)."),
    ("café résumé naïve façade", "cafe\u0301 re\u0301sume\u0301"),
    ("Improve the grammar.", "Improve the grammar and clarity of this email to make it more concise and vivid for the reader."),
    ("line one\nline two\n\nthree", "  leading and trailing  spaces  "),
]
# sentence-t5-base's tokenizer_config.json, with the tiny tokenizer's two extra ids
ST_TOKENIZER_CONFIG = {
    "additional_special_tokens": ["<extra_id_0>", "<extra_id_1>"],
    "eos_token": "</s>",
    "extra_ids": 2,
    "model_max_length": 512,
    "pad_token": "<pad>",
    "sp_model_kwargs": {},
    "tokenizer_class": "T5Tokenizer",
    "unk_token": "<unk>",
}


def _by_hand_embeddings(model, tok, texts, dense_w):
    """sentence-transformers' Transformer -> mean Pooling -> Dense (Identity) -> Normalize, in plain torch."""
    batch = tok(texts, padding=True, truncation=True, max_length=ST_MAX_SEQ, return_tensors="pt")
    with torch.no_grad():
        h = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (h * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
        return torch.nn.functional.normalize(pooled @ dense_w.T, p=2, dim=-1)


def sentence_t5_text() -> None:
    seed_all(601)
    raw_path = os.path.join(TOKENIZERS, "t5-like.tokenizer.json")
    from tokenizers import Tokenizer
    vocab = Tokenizer.from_file(raw_path).get_vocab_size(with_added_tokens=True)
    config = T5Config(vocab_size=vocab, d_model=24, d_kv=8, num_heads=4, num_layers=2, d_ff=40, dropout_rate=0.0,
                      relative_attention_num_buckets=8, relative_attention_max_distance=12, layer_norm_epsilon=1e-6,
                      feed_forward_proj="relu", is_encoder_decoder=False, use_cache=False)
    model = T5EncoderModel(config).eval()
    _randomize(model, 601)
    g = torch.Generator().manual_seed(608)
    dense_w = torch.randn(24, config.d_model, generator=g) * 0.3
    out = fresh_dir("sentence-t5-tiny-text")
    model.save_pretrained(out, safe_serialization=True)
    _tidy(out)
    write_json(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
        {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": ST_MAX_SEQ, "do_lower_case": False})
    os.makedirs(os.path.join(out, "1_Pooling"))
    write_json(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": config.d_model, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False})
    os.makedirs(os.path.join(out, "2_Dense"))
    write_json(os.path.join(out, "2_Dense", "config.json"), {
        "in_features": config.d_model, "out_features": 24, "bias": False,
        "activation_function": "torch.nn.modules.linear.Identity"})
    save_file({"linear.weight": dense_w.contiguous()}, os.path.join(out, "2_Dense", "model.safetensors"),
              metadata={"format": "pt"})
    os.makedirs(os.path.join(out, "3_Normalize"))
    shutil.copyfile(raw_path, os.path.join(out, "tokenizer.json"))
    write_json(os.path.join(out, "tokenizer_config.json"), ST_TOKENIZER_CONFIG)

    tok = AutoTokenizer.from_pretrained(out)
    raw = Tokenizer.from_file(raw_path)
    ids = []
    for t in ST_TEXTS:
        a = tok(t, truncation=True, max_length=ST_MAX_SEQ)["input_ids"]
        b = raw.encode(t).ids
        b = b if len(b) <= ST_MAX_SEQ else b[:ST_MAX_SEQ - 1] + [b[-1]]
        assert a == b, (t, a, b)  # transformers' T5Tokenizer == tokenizer.json (+ truncation keeping </s>)
        ids.append(a)
    assert any(len(raw.encode(t).ids) > ST_MAX_SEQ for t in ST_TEXTS)
    hand = _by_hand_embeddings(model, tok, ST_TEXTS, dense_w)
    source = "by hand"
    try:
        from sentence_transformers import SentenceTransformer
        st = SentenceTransformer(out, device="cpu")
        assert st.max_seq_length == ST_MAX_SEQ, st.max_seq_length
        emb = torch.from_numpy(st.encode(ST_TEXTS, batch_size=4, convert_to_numpy=True))
        diff = float((emb - hand).abs().max())
        assert diff < 1e-5, diff
        source = "sentence-transformers encode (by-hand max diff %.2e)" % diff
        pair_texts = [t for p in ST_PAIRS for t in p]
        pe = torch.from_numpy(st.encode(pair_texts, batch_size=3, convert_to_numpy=True))
    except ImportError:
        emb = hand
        pe = _by_hand_embeddings(model, tok, [t for p in ST_PAIRS for t in p], dense_w)
    pairs = []
    for i, (p, t) in enumerate(ST_PAIRS):
        cos = float(torch.nn.functional.cosine_similarity(pe[2 * i].double(), pe[2 * i + 1].double(), dim=0))
        pairs.append({"predicted": p, "truth": t, "score": cos ** 3})
    write_json(os.path.join(out, "expected.json"), {
        "source": source, "max_seq_length": ST_MAX_SEQ, "texts": ST_TEXTS, "input_ids": ids,
        "embeddings": emb.float().tolist(), "pairs": pairs,
        "mean_score": sum(p["score"] for p in pairs) / len(pairs)})
    print("sentence-t5-tiny-text:", source)


# -------------------------------------------------------------------------------------------- decoders

# Mistral-7B-Instruct-v0.2's first published chat_template (as decoders_fixtures.MISTRAL_V02_OLD)
from decoders_fixtures import MISTRAL_V02_OLD  # noqa: E402

MISTRAL_PROMPTS = [
    ("Rewrite this text as a poem:\nThe cat sat.", False),
    ("Rewrite this text as a poem:\nThe cat sat.", True),
    ("  Make it formal, please!  ", False),
    ("  Make it formal, please!  ", True),
    ("café résumé 東京 🦙", False),
    ("café résumé 東京 🦙", True),
    ("Say </s> then [INST] nested [/INST]\n\n", False),  # a literal </s> is the special token, as in HF
    ("Say </s> then [INST] nested [/INST]\n\n", True),
]
PHI_PROMPTS = [
    "Instruct: Rewrite this text as a poem.\nOutput:",
    "def main():\n        return  1",
    "café résumé 東京 🦙 <|im_end|> done",
    "a   <|lstrip|> b <|rstrip|>   c\n\n\n   end ",  # lstrip/rstrip added tokens, runs of spaces and newlines
]


def _prompt_ids(tok, raw, prompt: str, chat: bool):
    if chat:
        ids = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=True,
                                      add_generation_prompt=True, return_dict=False)
        text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                       add_generation_prompt=True)
        assert list(ids) == raw.encode(text, add_special_tokens=False).ids, (prompt, ids)
        return list(ids)
    ids = tok(prompt, add_special_tokens=True)["input_ids"]
    assert ids == raw.encode(prompt, add_special_tokens=True).ids, (prompt, ids)
    return ids


def _greedy_cases(model, tok, prompts):
    cases = []
    for prompt, chat, ids in prompts:
        x = torch.tensor([ids])
        with torch.no_grad():
            out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=MAX_NEW,
                                 min_new_tokens=MAX_NEW, eos_token_id=None, pad_token_id=0, output_scores=True,
                                 return_dict_in_generate=True)
        gaps = [float(torch.topk(s[0].float(), 2).values[0] - torch.topk(s[0].float(), 2).values[1]) for s in out.scores]
        gen = out.sequences[0, len(ids):].tolist()
        cases.append({"prompt": prompt, "chat": chat, "prompt_ids": ids, "generated_ids": gen,
                      "text": tok.decode(gen, skip_special_tokens=True), "min_gap": min(gaps)})
    return cases


def _decoder(name, tokenizer_file, tokenizer_config, make_model, prompts, seeds) -> None:
    from tokenizers import Tokenizer
    raw_path = os.path.join(TOKENIZERS, tokenizer_file)
    raw = Tokenizer.from_file(raw_path)
    vocab = raw.get_vocab_size(with_added_tokens=True)
    out = fresh_dir(name)
    shutil.copyfile(raw_path, os.path.join(out, "tokenizer.json"))
    write_json(os.path.join(out, "tokenizer_config.json"), tokenizer_config)
    tok = AutoTokenizer.from_pretrained(out)
    with_ids = [(p, chat, _prompt_ids(tok, raw, p, chat)) for p, chat in prompts]
    for seed in seeds:
        seed_all(seed)
        model = make_model(vocab).eval()
        cases = _greedy_cases(model, tok, with_ids)
        if min(c["min_gap"] for c in cases) > MIN_GAP:
            break
    else:
        raise RuntimeError(name + ": no seed with clear top-1/top-2 gaps")
    model.save_pretrained(out, safe_serialization=True)
    _tidy(out)
    # reload from disk, as the Java side will: the same ids
    reloaded = type(model).from_pretrained(out, dtype=torch.float32).eval()
    assert [c["generated_ids"] for c in _greedy_cases(reloaded, tok, with_ids)] == [c["generated_ids"] for c in cases]
    write_json(os.path.join(out, "expected.json"), {
        "seed": seed, "max_new_tokens": MAX_NEW, "tokenizer": "fixtures/tokenizers/" + tokenizer_file, "cases": cases})
    print(name, "seed", seed, "min gaps", [round(c["min_gap"], 4) for c in cases])


def tiny_mistral_text() -> None:
    def make(vocab):
        return MistralForCausalLM(MistralConfig(
            vocab_size=vocab, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128, sliding_window=4096, rope_theta=1e6,
            initializer_range=0.25, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2))
    _decoder("tiny-mistral-text", "mistral-like.tokenizer.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",  # not LlamaTokenizer: see the module docstring
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "model_max_length": 128,
        "clean_up_tokenization_spaces": False, "chat_template": MISTRAL_V02_OLD,
    }, make, MISTRAL_PROMPTS, range(700, 760))


def tiny_phi_text() -> None:
    def make(vocab):
        model = PhiForCausalLM(PhiConfig(
            vocab_size=vocab, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
            max_position_embeddings=128, partial_rotary_factor=0.5, hidden_act="gelu_new", initializer_range=0.25,
            tie_word_embeddings=False, bos_token_id=0, eos_token_id=0))
        with torch.no_grad():
            for n, p in model.named_parameters():
                if n.endswith(".bias"):
                    p.normal_(0.0, 0.1)
        return model
    _decoder("tiny-phi-text", "phi2-like.tokenizer.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",  # not CodeGenTokenizer: see the module docstring
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "model_max_length": 128, "clean_up_tokenization_spaces": False,
    }, make, [(p, False) for p in PHI_PROMPTS], range(800, 860))


def main() -> None:
    sentence_t5_text()
    tiny_mistral_text()
    tiny_phi_text()


if __name__ == "__main__":
    main()
