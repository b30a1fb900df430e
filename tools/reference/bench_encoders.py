#!/usr/bin/env python3
"""PyTorch counterpart of `prompt-recovery bench`: forward-pass timings of DeBERTa-v3-large and the
sentence-t5-base T5 encoder at their real sizes with random weights, same shapes and statistics
(median and min of N timed passes after W untimed ones), CSV on stdout.

    /work/venv/ref/bin/python tools/reference/bench_encoders.py --threads 2
    ./prompt-recovery bench            # the SameDiff side (same defaults)

Run both on the same machine with the same number of threads (ND4J uses all cores by default;
set OMP_NUM_THREADS for both to compare at another count).
"""
import argparse
import statistics
import time

import torch
from transformers import DebertaV2Config, DebertaV2Model, T5Config, T5EncoderModel

DEBERTA_V3_LARGE = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                        hidden_act="gelu", vocab_size=128100, max_position_embeddings=512, type_vocab_size=0,
                        layer_norm_eps=1e-7, relative_attention=True, max_relative_positions=-1, position_buckets=256,
                        norm_rel_ebd="layer_norm", share_att_key=True, pos_att_type="p2c|c2p",
                        position_biased_input=False, pad_token_id=0)
SENTENCE_T5_BASE = dict(d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12, vocab_size=32128,
                        relative_attention_num_buckets=32, relative_attention_max_distance=128,
                        layer_norm_epsilon=1e-6, feed_forward_proj="relu", is_encoder_decoder=False, use_cache=False)


def build(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if name == "deberta-v3-large":
        return DebertaV2Model(DebertaV2Config(**DEBERTA_V3_LARGE)).eval()
    if name == "sentence-t5-base":
        return T5EncoderModel(T5Config(**SENTENCE_T5_BASE)).eval()
    raise ValueError(name)


def time_model(model, batch: int, length: int, warmup: int, iterations: int, hidden_states: bool):
    g = torch.Generator().manual_seed(17)
    ids = torch.randint(2, 1000, (batch, length), generator=g)
    mask = torch.ones(batch, length, dtype=torch.long)
    times = []
    with torch.inference_mode():
        for i in range(warmup + iterations):
            t0 = time.perf_counter()
            model(input_ids=ids, attention_mask=mask, output_hidden_states=hidden_states)
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="deberta-v3-large,sentence-t5-base")
    ap.add_argument("--shapes", default="4x384,32x64")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    print("model,batch,length,median_ms,min_ms,iterations")
    for name in args.models.split(","):
        model = build(name)
        for shape in args.shapes.split(","):
            b, l = (int(x) for x in shape.lower().split("x"))
            med, mn = time_model(model, b, l, args.warmup, args.iterations, hidden_states=True)
            print(f"{name},{b},{l},{med:.1f},{mn:.1f},{args.iterations}", flush=True)


if __name__ == "__main__":
    main()
