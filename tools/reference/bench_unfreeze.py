"""Time per training step through DeBERTa-v3-large's shapes (random weights), top N layers unfrozen + the seed's head
(4096 -> 32256 -> 768), the originals and rewritten texts as two passes: compare with DebertaRegressorBenchTest.
Usage: bench_unfreeze.py [top=1] [batch=2] [length=64] [steps=3]"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import DebertaV2Config, DebertaV2Model

top, batch, length, steps = (int(a) for a in (sys.argv[1:] + ["1", "2", "64", "3"][len(sys.argv) - 1:]))
torch.set_num_threads(2)
torch.manual_seed(0)
cfg = DebertaV2Config(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                      vocab_size=128100, relative_attention=True, position_buckets=256, max_relative_positions=-1,
                      pos_att_type=["p2c", "c2p"], share_att_key=True, norm_rel_ebd="layer_norm",
                      position_biased_input=False, type_vocab_size=0, layer_norm_eps=1e-7)
deberta = DebertaV2Model(cfg).eval()
head = nn.Sequential(nn.Linear(4096, 32256), nn.BatchNorm1d(32256), nn.ReLU(), nn.Linear(32256, 768)).train()
for n, p in deberta.named_parameters():
    p.requires_grad_(any(n.startswith("encoder.layer.%d." % i) for i in range(24 - top, 24)))
params = [p for p in deberta.parameters() if p.requires_grad] + list(head.parameters())
opt = torch.optim.AdamW(params, lr=1e-5, betas=(0.85, 0.999), weight_decay=0.005)
ids_o = torch.randint(5, 128000, (batch, length))
ids_r = torch.randint(5, 128000, (batch, length))
y = torch.randn(batch, 768)


def means(ids):
    hs = deberta(input_ids=ids, output_hidden_states=True).hidden_states
    return [hs[-1].mean(1), hs[-2].mean(1)]


for i in range(steps):
    t0 = time.perf_counter()
    loss = (1 - F.cosine_similarity(head(torch.cat(means(ids_o) + means(ids_r), 1)), y, dim=1)).mean()
    opt.zero_grad()
    loss.backward()
    t1 = time.perf_counter()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    t2 = time.perf_counter()
    print("top %d, batch %d x %d, step %d: forward+backward %.0f ms, clip+AdamW %.0f ms, loss %.5f"
          % (top, batch, length, i, (t1 - t0) * 1e3, (t2 - t1) * 1e3, loss.item()))
