#!/usr/bin/env python3
"""Random-weight checkpoints at real shapes, and the PyTorch side of the decoder benchmark.

Not a fixture generator (nothing here is committed output). Usage:
    python tools/reference/bench_decoders.py make-phi2 /tmp/bench/phi2 [--layers 32]
    python tools/reference/bench_decoders.py make-mistral7b /tmp/bench/mistral7b [--layers 32]  # bf16, sharded
    python tools/reference/bench_decoders.py torch /tmp/bench/phi2 [--dtype float32|bfloat16] [--threads 2] \\
        [--runs 3] [--output torch.json]
The JVM side, same measurements and JSON keys (models.bench.DecoderBench):
    ./prompt-recovery bench-decoder --model /tmp/bench/phi2 [--compute float32|bf16|as-stored] [--output jvm.json]
Measurements (the model's forward with a KV cache, no generate() loop; random ids):
- prefill: batch 1 of 64 and of 512 tokens, logits of the last position and the cache (median of --runs);
- decode tokens/s at batch 1 and 16: batch / median time of one step (one new token per row, the cache
  of a 64-token prompt growing over 16 steps, logits of the new position);
- peak RSS (ru_maxrss, GiB), load seconds, weight GiB (the parameters as loaded: 4 bytes a value in float32,
  2 in bfloat16).
JSON keys: compute (float32 or bf16, the JVM's names), threads, load_s, weight_gib, prefill64_s, prefill512_s,
decode_b1_tok_s, decode_b16_tok_s, peak_rss_gib. Run on an otherwise idle machine.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
from safetensors.torch import save_file


def make_phi2(out: str, layers: int) -> None:
    from transformers import PhiConfig
    config = PhiConfig(vocab_size=51200, hidden_size=2560, intermediate_size=10240, num_hidden_layers=layers,
                       num_attention_heads=32, max_position_embeddings=2048, partial_rotary_factor=0.4,
                       hidden_act="gelu_new", tie_word_embeddings=False, layer_norm_eps=1e-5)
    os.makedirs(out, exist_ok=True)
    config.save_pretrained(out)
    g = torch.Generator().manual_seed(0)
    h, i = 2560, 10240
    sd = {"model.embed_tokens.weight": _rand(g, 51200, h), "model.final_layernorm.weight": torch.ones(h),
          "model.final_layernorm.bias": torch.zeros(h), "lm_head.weight": _rand(g, 51200, h),
          "lm_head.bias": torch.zeros(51200)}
    for l in range(layers):
        p = f"model.layers.{l}."
        sd[p + "input_layernorm.weight"] = torch.ones(h)
        sd[p + "input_layernorm.bias"] = torch.zeros(h)
        for n in ("q_proj", "k_proj", "v_proj", "dense"):
            sd[p + "self_attn." + n + ".weight"] = _rand(g, h, h)
            sd[p + "self_attn." + n + ".bias"] = torch.zeros(h)
        sd[p + "mlp.fc1.weight"] = _rand(g, i, h)
        sd[p + "mlp.fc1.bias"] = torch.zeros(i)
        sd[p + "mlp.fc2.weight"] = _rand(g, h, i)
        sd[p + "mlp.fc2.bias"] = torch.zeros(h)
    save_file({k: v.to(torch.bfloat16).contiguous() for k, v in sd.items()}, os.path.join(out, "model.safetensors"))


def make_mistral7b(out: str, layers: int = 32) -> None:
    from transformers import MistralConfig
    config = MistralConfig(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=layers,
                           num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768,
                           rope_theta=1e6, sliding_window=None, tie_word_embeddings=False)
    config.torch_dtype = "bfloat16"
    os.makedirs(out, exist_ok=True)
    config.save_pretrained(out)
    g = torch.Generator().manual_seed(0)
    h, i, kv = 4096, 14336, 1024
    weight_map = {}

    def shard(name, tensors):
        save_file({k: v.to(torch.bfloat16).contiguous() for k, v in tensors.items()}, os.path.join(out, name))
        weight_map.update({k: name for k in tensors})

    shard("model-00000.safetensors", {"model.embed_tokens.weight": _rand(g, 32000, h),
                                      "model.norm.weight": torch.ones(h), "lm_head.weight": _rand(g, 32000, h)})
    for l in range(layers):
        p = f"model.layers.{l}."
        shard(f"model-{l + 1:05d}.safetensors", {
            p + "input_layernorm.weight": torch.ones(h), p + "post_attention_layernorm.weight": torch.ones(h),
            p + "self_attn.q_proj.weight": _rand(g, h, h), p + "self_attn.k_proj.weight": _rand(g, kv, h),
            p + "self_attn.v_proj.weight": _rand(g, kv, h), p + "self_attn.o_proj.weight": _rand(g, h, h),
            p + "mlp.gate_proj.weight": _rand(g, i, h), p + "mlp.up_proj.weight": _rand(g, i, h),
            p + "mlp.down_proj.weight": _rand(g, h, i)})
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)


def _rand(g, *shape):
    return (torch.randn(*shape, generator=g) * 0.02).to(torch.bfloat16)  # bf16 at once: half the peak memory


def prompts(batch: int, length: int, vocab: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, vocab, (batch, length), generator=g)


DTYPES = {"float32": (torch.float32, "float32"), "bfloat16": (torch.bfloat16, "bf16")}


def bench_torch(model_dir: str, threads: int, runs: int, dtype: str = "float32", output: str = None,
                warmup: int = 2) -> dict:
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(threads)
    torch_dtype, compute = DTYPES[dtype]
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch_dtype).eval()
    load = time.perf_counter() - t0
    vocab = model.config.vocab_size
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())

    def prefill(b, length):
        ids = prompts(b, length, vocab)
        t = time.perf_counter()
        with torch.no_grad():
            out = model(ids, use_cache=True, logits_to_keep=1)
        return time.perf_counter() - t, out.past_key_values

    def decode(b, length, steps):
        _, past = prefill(b, length)
        times = []
        nxt = torch.full((b, 1), 5, dtype=torch.long)
        for _ in range(steps):
            t = time.perf_counter()
            with torch.no_grad():
                out = model(nxt, past_key_values=past, use_cache=True)
            out.logits.float().numpy()
            times.append(time.perf_counter() - t)
            past = out.past_key_values
        return statistics.median(times)

    def progress(line):
        print(line, file=sys.stderr, flush=True)

    res = {"compute": compute, "threads": threads, "load_s": load, "weight_gib": weight_bytes / 2**30}
    progress(f"loaded {model_dir} ({compute}) in {load:.1f} s: {res['weight_gib']:.2f} GiB of weights")
    prefill(1, 16)  # warm-up
    for w in range(1, warmup + 1):  # untimed rounds of the four measurements, as bench-decoder --warmup
        p64, p512 = prefill(1, 64)[0], prefill(1, 512)[0]
        b1, b16 = 1 / decode(1, 64, 16), 16 / decode(16, 64, 16)
        progress(f"warm-up round {w} of {warmup}: prefill 64 {p64:.3f} s, 512 {p512:.3f} s, "
                 f"decode batch 1 {b1:.2f}, batch 16 {b16:.2f} tokens/s")
    res["warmup_rounds"] = warmup
    for length in (64, 512):
        res[f"prefill{length}_s"] = statistics.median(prefill(1, length)[0] for _ in range(runs))
        progress(f"prefill {length} tokens: {res[f'prefill{length}_s']:.3f} s (median of {runs})")
    for b in (1, 16):
        res[f"decode_b{b}_tok_s"] = b / decode(b, 64, 16)
        progress(f"decode batch {b}: {res[f'decode_b{b}_tok_s']:.2f} tokens/s")
    res["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    text = json.dumps(res)
    if output:
        tmp = output + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, output)
    print(text)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["make-phi2", "make-mistral7b", "torch"])
    ap.add_argument("dir")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2, help="torch: untimed rounds of the four measurements first")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="float32", help="torch: the compute dtype")
    ap.add_argument("--output", help="torch: also write the JSON here")
    a = ap.parse_args()
    if a.what == "make-phi2":
        make_phi2(a.dir, a.layers)
    elif a.what == "make-mistral7b":
        make_mistral7b(a.dir, a.layers)
    else:
        bench_torch(a.dir, a.threads, a.runs, a.dtype, a.output, a.warmup)


if __name__ == "__main__":
    main()
