"""Time per training step of the seed's head at real size in PyTorch (compare with HeadBenchTest).

Linear(4096, 32256) -> BatchNorm1d -> ReLU -> Linear(32256, 768), batch 4, cosine loss, clip_grad_norm_(1.0),
AdamW (betas 0.85/0.999, eps 1e-8, wd 0.005) single-tensor (foreach=False, what our AdamW mirrors) and fused.
"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)
head = nn.Sequential(nn.Linear(4096, 32256), nn.BatchNorm1d(32256), nn.ReLU(), nn.Linear(32256, 768))
x, y = torch.randn(4, 4096), torch.randn(4, 768)
for kind in ("foreach=False", "fused=True"):
    opt = torch.optim.AdamW(head.parameters(), lr=1e-4, betas=(0.85, 0.999), eps=1e-8, weight_decay=0.005,
                            **({"foreach": False} if kind == "foreach=False" else {"fused": True}))
    fb, clip, step = [], [], []
    for i in range(6):
        t0 = time.perf_counter()
        loss = (1 - F.cosine_similarity(head(x), y, dim=1)).mean()
        opt.zero_grad()
        loss.backward()
        t1 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if i > 0:
            fb.append(t1 - t0); clip.append(t2 - t1); step.append(t3 - t2)
    print(f"AdamW {kind}: forward+backward {statistics.median(fb)*1e3:.0f} ms, clip {statistics.median(clip)*1e3:.0f} ms,"
          f" step {statistics.median(step)*1e3:.0f} ms")
