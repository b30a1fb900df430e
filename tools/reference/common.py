"""Shared helpers of the reference-fixture generators (deterministic, CPU, float32)."""
import json
import os
import random
import shutil

import numpy as np
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "fixtures")


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fresh_dir(*parts: str) -> str:
    """An empty fixtures/<parts> folder (removed first if present)."""
    path = os.path.join(FIXTURES, *parts)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def tensor_json(t: torch.Tensor) -> dict:
    """One tensor in the project's tensor JSON format (floats as float32, shortest round-trip repr)."""
    t = t.detach().cpu()
    if t.is_floating_point():
        arr = t.float().numpy()
        data = arr.tolist()  # python floats of float32 values: exact
        return {"shape": list(arr.shape), "dtype": "float32", "data": data}
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": t.tolist()}
    return {"shape": list(t.shape), "dtype": "int64", "data": t.long().tolist()}


def write_json(path: str, obj) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def tensor_summary(t: torch.Tensor) -> dict:
    """Per-tensor facts a reader must reproduce: dtype, shape, sums and the first values as float32."""
    f = t.detach().float().flatten()
    return {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "sum": float(f.double().sum()),
        "abs_sum": float(f.double().abs().sum()),
        "first": [float(x) for x in f[:8].tolist()],
    }
