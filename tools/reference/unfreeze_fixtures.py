"""Fixtures of the unfrozen-backbone part of issue 10: the seed's CustomModel (DeBERTa-v3 + features + head)
trained THROUGH the top DeBERTa layers, gradients and 3 AdamW steps from PyTorch.

Model (fixtures/deberta-v3-tiny-features: hidden 32, 3 layers) in float32, eval-mode DeBERTa (dropout off; the
fixture's dropout probabilities are 0 anyway), the head in TRAIN mode (BatchNorm batch statistics):
  feats = [mean(hs[-1](orig)), mean(hs[-2](orig)), mean(hs[-1](rewr)), mean(hs[-2](rewr))]   # 4 x 32 = 128
  pred  = head(feats),  head = Sequential(Linear(128, 16), BatchNorm1d(16), ReLU(), Linear(16, 8))
mean = attention-masked mean over tokens. Original and rewritten texts are two separate DeBERTa passes
(each padded to its own longest row), as the seed computes them.

fixtures/deberta-unfreeze/
  inputs.json                 token ids (HF's tokenizer, max_length 384, no row truncated) of the 6 CSV rows
  head_init.safetensors       the initial head (seed's names, head.1.num_batches_tracked int64)
  targets.npy                 float32 [6, 8], random (seeded)
  grads_<loss>.safetensors    loss in cosine|scs|mse; gradients of ALL parameters of the encoder (encoder.layer.{0,1,2}
                              and the shared encoder.rel_embeddings.weight, encoder.LayerNorm.*; HF names, HF layout
                              [out, in]) and of the head's parameters, "loss" (scalar),
                              after one train-mode forward on all 6 rows. The gradient of a layer does not depend
                              on which other layers are trainable: the same tensors serve "top 1" and "all".
  adamw_top1.safetensors      3 AdamW steps (foreach=False; lr 1e-4, betas 0.85/0.999, eps 1e-8, wd 0.005) on the
                              same batch, cosine loss, over head + encoder.layer.2: "loss1..3", every trained
                              parameter after the steps, and head.1.running_mean/var/num_batches_tracked
  expected.json               settings and the losses
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import DebertaV2Model, DebertaV2Tokenizer

from common import FIXTURES, fresh_dir, seed_all, write_json

MODEL = os.path.join(FIXTURES, "deberta-v3-tiny-features")
HIDDEN, OUT = 16, 8
LR, BETAS, EPS, WEIGHT_DECAY, STEPS = 1e-4, (0.85, 0.999), 1e-8, 0.005, 3


def read_rows():
    import csv
    with open(os.path.join(MODEL, "data.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["original_text"] for r in rows], [r["rewritten_text"] for r in rows]


class CustomModel(nn.Module):
    def __init__(self, deberta, hidden_in):
        super().__init__()
        self.deberta = deberta
        self.head = nn.Sequential(nn.Linear(4 * hidden_in, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(),
                                  nn.Linear(HIDDEN, OUT))
        for m in self.head:
            if isinstance(m, nn.Linear):
                m.weight.data.normal_(mean=0.0, std=0.02)
                m.bias.data.zero_()

    @staticmethod
    def _mean(h, mask):
        m = mask.unsqueeze(-1).to(h.dtype)
        return (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)

    def features(self, enc_o, enc_r):
        parts = []
        for enc in (enc_o, enc_r):
            hs = self.deberta(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                              output_hidden_states=True).hidden_states
            parts += [self._mean(hs[-1], enc["attention_mask"]), self._mean(hs[-2], enc["attention_mask"])]
        return torch.cat(parts, dim=1)

    def forward(self, enc_o, enc_r):
        return self.head(self.features(enc_o, enc_r))


def loss_fn(kind, pred, target):
    if kind == "mse":
        return F.mse_loss(pred, target)
    cos = F.cosine_similarity(pred, target, dim=1, eps=1e-8)
    return (1 - cos).mean() if kind == "cosine" else (1 - cos ** 3).mean()


def build():
    seed_all(2024)
    deberta = DebertaV2Model.from_pretrained(MODEL, dtype=torch.float32)
    model = CustomModel(deberta, deberta.config.hidden_size)
    model.deberta.eval()
    model.head.train()
    return model


def trainable(model, layers, whole_encoder=False):
    for n, p in model.named_parameters():
        p.requires_grad_(n.startswith("head.") or any(n.startswith("deberta.encoder.layer.%d." % i) for i in layers)
                         or (whole_encoder and n.startswith("deberta.encoder.")))
    return [p for p in model.parameters() if p.requires_grad]


def named_trainable(model):
    return {n[len("deberta."):] if n.startswith("deberta.") else n: p for n, p in model.named_parameters()
            if p.requires_grad}


def main():
    torch.set_num_threads(1)
    out = fresh_dir("deberta-unfreeze")
    tok = DebertaV2Tokenizer.from_pretrained(MODEL)
    texts_o, texts_r = read_rows()
    enc_o = tok(texts_o, truncation=True, max_length=384, padding=True, return_tensors="pt")
    enc_r = tok(texts_r, truncation=True, max_length=384, padding=True, return_tensors="pt")
    ids = lambda enc: [[int(i) for i, m in zip(r, mk) if m]
                       for r, mk in zip(enc["input_ids"].tolist(), enc["attention_mask"].tolist())]
    write_json(os.path.join(out, "inputs.json"), {"input_ids_original": ids(enc_o), "input_ids_rewritten": ids(enc_r)})
    model = build()
    layers = model.deberta.config.num_hidden_layers
    init_head = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if k.startswith("head.")}
    save_file(init_head, os.path.join(out, "head_init.safetensors"), metadata={"format": "pt"})
    g = torch.Generator().manual_seed(2025)
    y = torch.randn(len(texts_o), OUT, generator=g)
    np.save(os.path.join(out, "targets.npy"), y.numpy())
    expected = {"hidden": HIDDEN, "out": OUT, "rows": len(texts_o), "layers": layers, "lr": LR, "betas": list(BETAS),
                "eps": EPS, "weight_decay": WEIGHT_DECAY, "steps": STEPS, "torch": torch.__version__, "loss": {}}
    for kind in ("cosine", "scs", "mse"):
        m = build()
        trainable(m, range(layers), whole_encoder=True)
        loss = loss_fn(kind, m(enc_o, enc_r), y)
        loss.backward()
        t = {n: p.grad.detach().clone().contiguous() for n, p in named_trainable(m).items()}
        t["loss"] = loss.detach().clone().reshape(())
        save_file(t, os.path.join(out, "grads_%s.safetensors" % kind))
        expected["loss"][kind] = loss.item()
    m = build()
    params = trainable(m, [layers - 1])
    opt = torch.optim.AdamW(params, lr=LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY, foreach=False)
    t, losses = {}, []
    for s in range(STEPS):
        loss = loss_fn("cosine", m(enc_o, enc_r), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        t["loss%d" % (s + 1)] = loss.detach().clone().reshape(())
    for n, p in named_trainable(m).items():
        t[n] = p.detach().clone().contiguous()
    for n in ("head.1.running_mean", "head.1.running_var", "head.1.num_batches_tracked"):
        t[n] = m.state_dict()[n].clone()
    save_file(t, os.path.join(out, "adamw_top1.safetensors"))
    expected["adamw_top1_losses"] = losses
    write_json(os.path.join(out, "expected.json"), expected)
    print(json.dumps(expected))


if __name__ == "__main__":
    main()
