#!/usr/bin/env python3
"""PyTorch's side of `prompt-recovery bench-gemm`: torch.nn.functional.linear (y = x W^T, W [out, in] as HF holds it)
at the same shapes, row counts and repeats (median), float32 and bf16, CSV on stdout. Not a fixture generator.
    python tools/reference/bench_gemm.py [--threads 2] [--repeats 9]
"""
import argparse
import statistics
import time

import torch

SHAPES = [(2560, 7680), (2560, 10240), (10240, 2560), (4096, 6144), (4096, 28672), (14336, 4096), (2560, 51200)]
ROWS = [1, 16, 512]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=9)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print("dtype,layout,helpers,in,out,rows,median_ms")
    for name, dt in (("float32", torch.float32), ("bf16", torch.bfloat16)):
        for k, n in SHAPES:
            w = (torch.rand(n, k) - 0.5).to(dt)
            for m in ROWS:
                if m == 512 and n > 20000:
                    continue
                x = torch.rand(m, k).to(dt)
                reps = max(3, a.repeats // 3) if m == 512 else a.repeats
                for _ in range(2):
                    torch.nn.functional.linear(x, w)
                times = []
                for _ in range(reps):
                    t = time.perf_counter()
                    torch.nn.functional.linear(x, w)
                    times.append((time.perf_counter() - t) * 1e3)
                print(f"{name},out-in-transposed,torch,{k},{n},{m},{statistics.median(times):.3f}", flush=True)


if __name__ == "__main__":
    main()
