"""Fixture of the features command (issue 10): a tiny random DeBERTa-v3 folder WITH its tokenizer, a CSV of
(original_text, rewritten_text) rows and the seed-style features computed by HF in float32.

fixtures/deberta-v3-tiny-features/
  config.json, model.safetensors   DebertaV2Model (v3 style: relative attention, position buckets 256,
                                   share_att_key, p2c|c2p, norm_rel_ebd layer_norm, no absolute positions),
                                   hidden 32, 3 layers, 4 heads, fp32, random non-trivial weights
  spm.model, tokenizer_config.json the DeBERTa-like SentencePiece Unigram model of fixtures/tokenizers
                                   (deberta-like.model) as a microsoft/deberta-v3-* folder ships it;
                                   DebertaV2Tokenizer adds [MASK] after the 500 pieces (id 500)
  data.csv                         6 rows id,original_text,rewritten_text,rewrite_prompt: different lengths,
                                   an empty rewritten text (only [CLS] [SEP]), a row over 16 tokens, accents
  expected-max16.json              {"input_ids_original": [[...]], "input_ids_rewritten": [[...]]} (HF ids)
  expected-max16.npy               features [6, 4*32] at max_length 16
  expected-max384.npy              features [6, 4*32] at max_length 384 (no row is truncated)

Features of one row, as the seed's DeBERTa regression model computes them (hidden_states of
DebertaV2Model(..., output_hidden_states=True); mean = attention-masked mean over tokens):
  [mean(hs[-1](original)), mean(hs[-2](original)), mean(hs[-1](rewritten)), mean(hs[-2](rewritten))]
Tokenisation: tokenizer(texts, truncation=True, max_length=N, padding=True) (special tokens kept).
"""
import csv
import os
import shutil

import numpy as np
import torch
from transformers import DebertaV2Config, DebertaV2Model, DebertaV2Tokenizer

from common import FIXTURES, fresh_dir, seed_all, write_json

ROWS = [
    ("r0", "The quick brown fox jumps over the lazy dog.", "A fast fox leaps over a sleepy dog."),
    ("r1", "hello world", ""),
    ("r2", "Once upon a time there was a little town by the sea where the fishermen sang every morning "
           "and the children ran along the harbour wall until the bells rang noon.",
     "Ahoy! In a wee town by the briny deep, the fishermen sang at dawn."),
    ("r3", "Café, naïve résumé; déjà vu?", "Write it as a poem: cafe and resume."),
    ("r4", "a", "b c"),
    ("r5", "Meeting moved to Tuesday at 10 am, please bring the quarterly report.",
     "Dear team, the meeting is now on Tuesday at 10 am. Kindly bring the quarterly report."),
]


def _randomize(model: torch.nn.Module, seed: int) -> None:
    """Non-trivial values everywhere (HF init leaves LayerNorm at 1/0 and biases at 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 if p.dim() > 1 else 0.2)
                    + (1.0 if "LayerNorm.weight" in name else 0.0))


def _mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)


def _features(model, tokenizer, texts_o, texts_r, max_length: int):
    parts, ids = [], {}
    for key, texts in (("original", texts_o), ("rewritten", texts_r)):
        enc = tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        with torch.no_grad():
            hs = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                       output_hidden_states=True).hidden_states
        parts += [_mean(hs[-1], enc["attention_mask"]), _mean(hs[-2], enc["attention_mask"])]
        ids["input_ids_" + key] = [[int(i) for i, m in zip(r, mk) if m]
                                   for r, mk in zip(enc["input_ids"].tolist(), enc["attention_mask"].tolist())]
    return torch.cat(parts, dim=1).float().numpy(), ids


def main() -> None:
    seed_all(1001)
    out = fresh_dir("deberta-v3-tiny-features")
    shutil.copy(os.path.join(FIXTURES, "tokenizers", "deberta-like.model"), os.path.join(out, "spm.model"))
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "DebertaV2Tokenizer", "do_lower_case": False, "split_by_punct": False,
        "bos_token": "[CLS]", "eos_token": "[SEP]", "unk_token": "[UNK]", "sep_token": "[SEP]",
        "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]", "vocab_type": "spm"})
    tokenizer = DebertaV2Tokenizer.from_pretrained(out)
    config = DebertaV2Config(
        vocab_size=512, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
        hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-7,
        max_position_embeddings=512, relative_attention=True, position_buckets=256, max_relative_positions=-1,
        pos_att_type=["p2c", "c2p"], share_att_key=True, norm_rel_ebd="layer_norm", position_biased_input=False,
        type_vocab_size=0, pad_token_id=0)
    model = DebertaV2Model(config).eval()
    _randomize(model, 1002)
    model.save_pretrained(out, safe_serialization=True)
    gen = os.path.join(out, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)
    with open(os.path.join(out, "data.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "original_text", "rewritten_text", "rewrite_prompt"])
        for i, (rid, o, r) in enumerate(ROWS):
            w.writerow([rid, o, r, "Rewrite prompt %d" % i])
    texts_o = [r[1] for r in ROWS]
    texts_r = [r[2] for r in ROWS]
    for max_length in (16, 384):
        feats, ids = _features(model, tokenizer, texts_o, texts_r, max_length)
        np.save(os.path.join(out, "expected-max%d.npy" % max_length), feats.astype(np.float32))
        write_json(os.path.join(out, "expected-max%d.json" % max_length), ids)
    assert max(len(x) for x in ids["input_ids_original"]) > 16, "a row must exceed max_length 16"


if __name__ == "__main__":
    main()
