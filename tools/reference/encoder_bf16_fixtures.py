"""bf16 references of tiny encoder fixtures (issue 12: bf16 linear layers in the encoders).

The JVM's bf16 option for encoders (ParameterBinder.Precision.BF16) holds every frozen nn.Linear weight in bf16
(rounded to nearest even from the checkpoint) and, per linear layer, rounds the input to bf16, multiplies in
oneDNN's bf16 GEMM (float32 accumulation, bf16 result), casts the product to float32 and adds the float32 bias;
embeddings, LayerNorms, attention scores (c2p/p2c), softmax and residuals stay float32. Written here:

fixtures/{deberta-v3-tiny-bf16, sentence-t5-tiny, bert-tiny-mean}/expected-bf16.json (on the folder's inputs.json;
deberta-v3-tiny-bf16 has bf16 weights on disk, the others float32)
  last_hidden_state            HF's DebertaV2Model / T5EncoderModel / BertModel loaded with dtype=torch.bfloat16
                               (every op in bf16)
  emulated_last_hidden_state   the float32 model with the JVM path's roundings (see _emulated)
  fp32_max_abs_diff            e = max |HF bf16 - HF fp32 (expected.json)| over non-padded positions
  fp32_max_abs                 max |HF fp32| there (the output scale)

fixtures/deberta-v3-tiny-features/expected-bf16.json (fp32 weights on disk: the rounding to bf16 matters)
  features                     the seed's features (features_fixtures.py) of data.csv at max_length 384 from HF's
                               bf16 hidden states (masked mean taken in float32, as the JVM does) [6, 128]
  emulated_features            the same from the emulation
  fp32_max_abs_diff            e = max |HF bf16 features - expected-max384.npy (HF fp32)|
  fp32_max_abs                 max |expected-max384.npy|
Run: /tmp/ref/bin/python tools/reference/encoder_bf16_fixtures.py
"""
import csv
import json
import os

import numpy as np
import torch
from transformers import BertModel, DebertaV2Model, DebertaV2Tokenizer, T5EncoderModel

from common import FIXTURES, tensor_json, write_json


def _tensor(d):
    return torch.tensor(d["data"]).reshape(d["shape"])


def _bf16(t):
    return t.to(torch.bfloat16).float()


def _emulated_model(folder, cls=DebertaV2Model):
    """The float32 model, every nn.Linear weight rounded to bf16 once (embeddings and norms untouched)."""
    model = cls.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.copy_(_bf16(m.weight))
    return model


def _bf16_linear(self, x):
    """The JVM's bf16 linear: bf16(x) . W^T in float32 (exact products of bf16 values), rounded to bf16, + bias."""
    y = _bf16(torch.nn.functional.linear(_bf16(x), self.weight))
    return y if self.bias is None else y + self.bias


def _emulated(model, **inputs):
    original = torch.nn.Linear.forward
    torch.nn.Linear.forward = _bf16_linear
    try:
        with torch.no_grad():
            return model(**inputs, output_hidden_states=True)
    finally:
        torch.nn.Linear.forward = original


def _hf(model, **inputs):
    with torch.no_grad():
        return model(**inputs, output_hidden_states=True)


def hidden_states_fixture(name, cls, fp32_key) -> None:
    folder = os.path.join(FIXTURES, name)
    inputs = json.load(open(os.path.join(folder, "inputs.json")))
    expected = json.load(open(os.path.join(folder, "expected.json")))
    ids = _tensor(inputs["input_ids"]).long()
    mask = _tensor(inputs["attention_mask"]).long()
    bf16 = cls.from_pretrained(folder, dtype=torch.bfloat16).eval()
    hf = _hf(bf16, input_ids=ids, attention_mask=mask).last_hidden_state.float()
    emulated = _emulated(_emulated_model(folder, cls), input_ids=ids, attention_mask=mask).last_hidden_state.float()
    fp32 = _tensor(expected[fp32_key]).float()
    valid = mask.bool()
    e = float((hf - fp32).abs()[valid].max())
    scale = float(fp32.abs()[valid].max())
    write_json(os.path.join(folder, "expected-bf16.json"), {
        "last_hidden_state": tensor_json(hf), "emulated_last_hidden_state": tensor_json(emulated),
        "fp32_max_abs_diff": e, "fp32_max_abs": scale})
    print(f"{name}: HF bf16 vs fp32 {e:.4f} (scale {scale:.2f}); emulation vs HF bf16 "
          f"{float((emulated - hf).abs()[valid].max()):.4f}, vs fp32 {float((emulated - fp32).abs()[valid].max()):.4f}")


def _mean(hidden, mask):
    m = mask.unsqueeze(-1).float()
    return (hidden.float() * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)


def _features(run, tokenizer, texts_o, texts_r, max_length):
    parts = []
    for texts in (texts_o, texts_r):
        enc = tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        hs = run(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).hidden_states
        parts += [_mean(hs[-1], enc["attention_mask"]), _mean(hs[-2], enc["attention_mask"])]
    return torch.cat(parts, dim=1)


def features_fixture() -> None:
    folder = os.path.join(FIXTURES, "deberta-v3-tiny-features")
    tokenizer = DebertaV2Tokenizer.from_pretrained(folder)
    with open(os.path.join(folder, "data.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts_o = [r["original_text"] for r in rows]
    texts_r = [r["rewritten_text"] for r in rows]
    bf16 = DebertaV2Model.from_pretrained(folder, dtype=torch.bfloat16).eval()
    hf = _features(lambda **i: _hf(bf16, **i), tokenizer, texts_o, texts_r, 384)
    emulation = _emulated_model(folder)
    emulated = _features(lambda **i: _emulated(emulation, **i), tokenizer, texts_o, texts_r, 384)
    fp32 = torch.from_numpy(np.load(os.path.join(folder, "expected-max384.npy")))
    e = float((hf - fp32).abs().max())
    scale = float(fp32.abs().max())
    write_json(os.path.join(folder, "expected-bf16.json"), {
        "features": tensor_json(hf), "emulated_features": tensor_json(emulated),
        "fp32_max_abs_diff": e, "fp32_max_abs": scale})
    print(f"deberta-v3-tiny-features: HF bf16 features vs fp32 {e:.4f} (scale {scale:.2f}); emulation vs HF bf16 "
          f"{float((emulated - hf).abs().max()):.4f}, vs fp32 {float((emulated - fp32).abs().max()):.4f}")


def main() -> None:
    torch.manual_seed(0)
    hidden_states_fixture("deberta-v3-tiny-bf16", DebertaV2Model, "last_hidden_state")
    hidden_states_fixture("sentence-t5-tiny", T5EncoderModel, "token_embeddings")
    hidden_states_fixture("bert-tiny-mean", BertModel, "last_hidden_state")
    features_fixture()


if __name__ == "__main__":
    main()
