"""Fixtures of the foundation issue: real HF-written folders for the weights reader and `inspect`.

- fixtures/tiny-mistral-bf16-sharded: a tiny random MistralForCausalLM saved by transformers in bfloat16,
  sharded (model.safetensors.index.json + 3 shards); expected.json holds HF's num_parameters() and, per
  tensor, dtype/shape/sums/first values after upcasting to float32.
"""
import json
import os

import torch
from safetensors.torch import load_file
from transformers import MistralConfig, MistralForCausalLM

from common import fresh_dir, seed_all, tensor_summary, write_json


def tiny_mistral_bf16_sharded() -> None:
    seed_all(1234)
    config = MistralConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, sliding_window=None, tie_word_embeddings=False)
    model = MistralForCausalLM(config).to(torch.bfloat16).eval()
    out = fresh_dir("tiny-mistral-bf16-sharded")
    model.save_pretrained(out, max_shard_size="4KB", safe_serialization=True)
    for f in ("generation_config.json",):
        p = os.path.join(out, f)
        if os.path.exists(p):
            os.remove(p)
    with open(os.path.join(out, "model.safetensors.index.json")) as f:
        index = json.load(f)
    tensors = {}
    for shard in sorted(set(index["weight_map"].values())):
        for name, t in load_file(os.path.join(out, shard)).items():
            tensors[name] = tensor_summary(t)
    write_json(os.path.join(out, "expected.json"), {
        "model_type": "mistral",
        "num_parameters": model.num_parameters(),
        "num_shards": len(set(index["weight_map"].values())),
        "tensors": dict(sorted(tensors.items())),
    })


def main() -> None:
    tiny_mistral_bf16_sharded()


if __name__ == "__main__":
    main()
