"""Fixtures of the head-training issue: the seed's embedding-regression head trained 5 AdamW steps in PyTorch.

The head is the seed's `CustomModel.head`, a module attribute named `head`:
    head = nn.Sequential(Linear(IN, HIDDEN), BatchNorm1d(HIDDEN), ReLU(), Linear(HIDDEN, OUT))
initialised as the seed does (Linear weights N(0, initializer_range = 0.02), biases 0; BatchNorm weight 1, bias 0),
trained in float32 on CPU with torch.optim.AdamW (foreach/fused off: the single-tensor path, what CPU uses by
default) with the seed's settings (betas 0.85/0.999, eps 1e-8, weight decay 0.005 on every parameter) and
clip_grad_norm_ before each step. Without shuffling: step i trains rows [i*B, (i+1)*B).

fixtures/head-training/
  init.safetensors            the initial head (names head.0.weight ... head.1.num_batches_tracked (int64))
  features.npy, targets.npy   float32 [ROWS, IN] and [ROWS, OUT]
  expected.json               settings; per loss: loss and total grad norm (before clipping) at each step
  after_<loss>.safetensors    the head after STEPS steps, for loss in cosine, scs, mse
  pred_<loss>.npy             eval-mode predictions of all ROWS rows by that head (running statistics)
  adamw.safetensors           AdamW alone on one tensor: param0, grad1..5, param1..5, exp_avg5, exp_avg_sq5

Losses (cos = F.cosine_similarity(pred, target, dim=1), eps 1e-8):
  cosine = mean(1 - cos)    scs = mean(1 - cos^3)    mse = F.mse_loss(pred, target) (mean over all values)
"""
import copy
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

from common import fresh_dir, seed_all, write_json

IN, HIDDEN, OUT = 16, 24, 8
ROWS, BATCH, STEPS = 20, 4, 5
LR, BETAS, EPS, WEIGHT_DECAY = 1e-3, (0.85, 0.999), 1e-8, 0.005
MAX_GRAD_NORM = {"cosine": 14.0, "scs": 5.0, "mse": 2.0}  # some steps clipped, some not
INITIALIZER_RANGE = 0.02


class Model(nn.Module):
    """The seed's head under the attribute name `head` (so the state dict says head.0.weight, ...)."""

    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(IN, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT))
        for m in self.head:
            if isinstance(m, nn.Linear):
                m.weight.data.normal_(mean=0.0, std=INITIALIZER_RANGE)
                m.bias.data.zero_()

    def forward(self, x):
        return self.head(x)


def loss_fn(kind, pred, target):
    if kind == "mse":
        return F.mse_loss(pred, target)
    cos = F.cosine_similarity(pred, target, dim=1, eps=1e-8)
    return (1 - cos).mean() if kind == "cosine" else (1 - cos ** 3).mean()


def state(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def train(init, kind, x, y):
    model = copy.deepcopy(init)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY,
                            foreach=False)
    losses, norms = [], []
    for i in range(STEPS):
        xb, yb = x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]
        loss = loss_fn(kind, model(xb), yb)
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM[kind])
        opt.step()
        losses.append(loss.detach().item())
        norms.append(float(norm))
    model.eval()
    with torch.no_grad():
        pred = model(x)
    return model, losses, norms, pred


def adamw_alone(out):
    """One tensor, five gradients of different scales (some values exactly 0), torch's AdamW step by step."""
    g = torch.Generator().manual_seed(7)
    p = torch.nn.Parameter(torch.randn(257, generator=g))
    opt = torch.optim.AdamW([p], lr=3e-3, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY, foreach=False)
    tensors = {"param0": p.detach().clone()}
    for step in range(1, STEPS + 1):
        grad = torch.randn(257, generator=g) * 10.0 ** (2 - step)
        grad[::17] = 0
        p.grad = grad.clone()
        opt.step()
        tensors[f"grad{step}"] = grad
        tensors[f"param{step}"] = p.detach().clone()
    st = opt.state[p]
    tensors["exp_avg5"] = st["exp_avg"].clone()
    tensors["exp_avg_sq5"] = st["exp_avg_sq"].clone()
    save_file(tensors, os.path.join(out, "adamw.safetensors"))
    return {"lr": 3e-3}


def main():
    torch.set_num_threads(1)
    seed_all(0)
    out = fresh_dir("head-training")
    init = Model()
    x = torch.randn(ROWS, IN)
    y = torch.randn(ROWS, OUT)
    save_file(state(init), os.path.join(out, "init.safetensors"), metadata={"format": "pt"})
    np.save(os.path.join(out, "features.npy"), x.numpy())
    np.save(os.path.join(out, "targets.npy"), y.numpy())
    expected = {
        "in": IN, "hidden": HIDDEN, "out": OUT, "rows": ROWS, "batch_size": BATCH, "steps": STEPS,
        "lr": LR, "betas": list(BETAS), "eps": EPS, "weight_decay": WEIGHT_DECAY,
        "max_grad_norm": MAX_GRAD_NORM, "torch": torch.__version__, "losses": {}, "grad_norms": {},
    }
    for kind in ("cosine", "scs", "mse"):
        model, losses, norms, pred = train(init, kind, x, y)
        save_file(state(model), os.path.join(out, f"after_{kind}.safetensors"), metadata={"format": "pt"})
        np.save(os.path.join(out, f"pred_{kind}.npy"), pred.numpy())
        expected["losses"][kind] = losses
        expected["grad_norms"][kind] = norms
        print(kind, "losses", losses, "grad norms", norms)
    expected["adamw"] = adamw_alone(out)
    write_json(os.path.join(out, "expected.json"), expected)


if __name__ == "__main__":
    main()
