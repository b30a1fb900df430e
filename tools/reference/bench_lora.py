#!/usr/bin/env python3
"""The PyTorch side of the LoRA training benchmark (issue 10). Not a fixture generator.

    python tools/reference/bench_decoders.py make-phi2 /tmp/bench/phi2-4 --layers 4
    python tools/reference/bench_lora.py /tmp/bench/phi2-4 [--threads 2] [--steps 6] [--length 256]
The Java side: training/src/test/.../lora/LoraBenchTest.java with -Dpr4j.bench.lora=/tmp/bench/phi2-4.
One step = forward + backward (HF causal-LM loss on every token of one random sequence) + torch.optim.AdamW
over the adapter; PEFT LoRA r=8, alpha 16 on q_proj, k_proj, v_proj, dense, float32. Prints one JSON line:
median seconds per step after one warm-up step, and the peak RSS.
"""
import argparse
import json
import resource
import statistics
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--length", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "dense"],
                                             lora_dropout=0.0, task_type="CAUSAL_LM"))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, foreach=False)
    ids = torch.randint(3, model.config.vocab_size, (1, a.length), generator=torch.Generator().manual_seed(1))
    model.train()
    times = []
    for s in range(a.steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        if s > 0:
            times.append(time.perf_counter() - t0)
    print("BENCH " + json.dumps({"side": "pytorch", "threads": a.threads, "length": a.length,
                                 "step_s_median": statistics.median(times), "step_s": times,
                                 "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))


if __name__ == "__main__":
    main()
