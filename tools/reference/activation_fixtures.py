#!/usr/bin/env python3
"""Reference activation dumps of the layer-numerics test kit (issue 13), made with dump_activations.py.

For each fixture below, <dir>/activations.json = dump_activations.py --model <model> [--adapter <adapter>]
--input <model>/inputs.json --capture '**' (every module, in named_modules order, then logits or
last_hidden_state), with the fixture's inputs.json as it is (padding included):

  fixtures/tiny-mistral-gqa2            fixtures/tiny-phi            fixtures/tiny-gemma-bf16 (bf16 upcast)
  fixtures/bert-tiny-mean               fixtures/sentence-t5-tiny (its Transformer module: the folder itself)
  fixtures/deberta-v3-tiny-features     inputs.json made here: [2, 10], row 1 right-padded after 6 tokens;
                                        left out (all of it would be 2.3 MB), see DROP:
                                        encoder.layer.{0,1,2}.attention.self.pos_dropout (exact copies of
                                        encoder.LayerNorm, the normed [512, 32] relative embeddings) and
                                        encoder.layer.{1,2}.attention.self.{query,key}_proj#2 (the projections
                                        of those embeddings, [1, 512, 32], 170 KB each; layer 0's are kept)
  fixtures/lora/tiny-mistral-gqa2       the PEFT adapter on fixtures/tiny-mistral-gqa2 and its inputs.json
  fixtures/lora/tiny-phi, tiny-gemma-bf16   the same for phi and Gemma
  fixtures/numerics-kit/tiny-mistral-4l a new 4-layer tiny Mistral (the config of tiny-mistral-gqa2 with
                                        num_hidden_layers 4; random float32 weights, seed 21), inputs.json
                                        copied from tiny-mistral-gqa2

and fixtures/numerics-kit/tiny-mistral-4l-broken-layer2/ = config.json + model.safetensors of tiny-mistral-4l with
model.layers.2.mlp.down_proj.weight[0, 0] += 0.5 (README.md says so; no activations.json: the JVM's capture of it
is compared with tiny-mistral-4l's to find the first failing layer).

Run from anywhere:  /tmp/ref/bin/python tools/reference/activation_fixtures.py
(torch 2.13 CPU, transformers 5.18, peft 0.21; one thread; deterministic). CI never runs it.
"""
import json
import os
import shutil

import torch
from safetensors.torch import load_file, save_file
from transformers import MistralConfig, MistralForCausalLM

from common import FIXTURES, seed_all, tensor_json, write_json
from dump_activations import dump, write_tensors

CASES = [
    # (activations.json folder, model folder, adapter folder)
    ("tiny-mistral-gqa2", "tiny-mistral-gqa2", None),
    ("tiny-phi", "tiny-phi", None),
    ("tiny-gemma-bf16", "tiny-gemma-bf16", None),
    ("bert-tiny-mean", "bert-tiny-mean", None),
    ("sentence-t5-tiny", "sentence-t5-tiny", None),
    ("deberta-v3-tiny-features", "deberta-v3-tiny-features", None),
    ("lora/tiny-mistral-gqa2", "tiny-mistral-gqa2", "lora/tiny-mistral-gqa2"),
    ("lora/tiny-phi", "tiny-phi", "lora/tiny-phi"),
    ("lora/tiny-gemma-bf16", "tiny-gemma-bf16", "lora/tiny-gemma-bf16"),
    ("numerics-kit/tiny-mistral-4l", "numerics-kit/tiny-mistral-4l", None),
]
# entries left out to keep a file near 1 MB: "copies" must be exact copies of another entry (checked), "size" are
# kept for layer 0 only (the same computation with another layer's weights)
DROP = {
    "deberta-v3-tiny-features": {
        "copies": {f"encoder.layer.{i}.attention.self.pos_dropout": "encoder.LayerNorm" for i in range(3)},
        "size": [f"encoder.layer.{i}.attention.self.{p}_proj#2" for i in (1, 2) for p in ("query", "key")],
    },
}
BROKEN_TENSOR = "model.layers.2.mlp.down_proj.weight"
BROKEN_DELTA = 0.5


def deberta_inputs() -> None:
    """A small padded batch for the features fixture (which has data.csv, no inputs.json)."""
    g = torch.Generator().manual_seed(1301)
    ids = torch.randint(3, 500, (2, 10), generator=g)
    mask = torch.ones(2, 10, dtype=torch.long)
    mask[1, 6:] = 0
    ids[1, 6:] = 0  # [PAD]
    ids[:, 0] = 1  # [CLS]
    ids[0, 9] = 2  # [SEP]
    ids[1, 5] = 2
    out = os.path.join(FIXTURES, "deberta-v3-tiny-features", "inputs.json")
    write_json(out, {"input_ids": tensor_json(ids), "attention_mask": tensor_json(mask)})


def tiny_mistral_4l() -> None:
    kit = os.path.join(FIXTURES, "numerics-kit")
    out = os.path.join(kit, "tiny-mistral-4l")
    broken = os.path.join(kit, "tiny-mistral-4l-broken-layer2")
    for d in (out, broken):
        shutil.rmtree(d, ignore_errors=True)
    seed_all(21)
    config = MistralConfig(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=4,
                           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                           sliding_window=5, rope_theta=1e6, initializer_range=0.25, tie_word_embeddings=False)
    MistralForCausalLM(config).eval().save_pretrained(out, safe_serialization=True)
    gen = os.path.join(out, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)
    shutil.copy(os.path.join(FIXTURES, "tiny-mistral-gqa2", "inputs.json"), os.path.join(out, "inputs.json"))

    os.makedirs(broken)
    shutil.copy(os.path.join(out, "config.json"), os.path.join(broken, "config.json"))
    tensors = load_file(os.path.join(out, "model.safetensors"))
    before = float(tensors[BROKEN_TENSOR][0, 0])
    tensors[BROKEN_TENSOR][0, 0] += BROKEN_DELTA
    after = float(tensors[BROKEN_TENSOR][0, 0])
    save_file(tensors, os.path.join(broken, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(broken, "README.md"), "w") as f:
        f.write(f"`../tiny-mistral-4l` with one weight changed: `{BROKEN_TENSOR}[0,0] += {BROKEN_DELTA}` "
                f"({before!r} -> {after!r} in float32); config.json and every other tensor are the same. "
                "Made by tools/reference/activation_fixtures.py; used to find the first failing layer "
                "(layer 2's mlp.down_proj) against `../tiny-mistral-4l/activations.json`.\n")


def main() -> None:
    torch.set_num_threads(1)
    deberta_inputs()
    tiny_mistral_4l()
    for where, model, adapter in CASES:
        model_dir = os.path.join(FIXTURES, model)
        tensors = dump(model_dir, os.path.join(model_dir, "inputs.json"), "**",
                       os.path.join(FIXTURES, adapter) if adapter else None)
        drop = DROP.get(where, {})
        for name, same in drop.get("copies", {}).items():
            assert torch.equal(tensors[name].flatten(), tensors[same].flatten()), (name, same)
            del tensors[name]
        for name in drop.get("size", []):
            del tensors[name]
        path = os.path.join(FIXTURES, where, "activations.json")
        write_tensors(path, tensors)
        print(f"{where}: {len(tensors)} tensors, {os.path.getsize(path)} bytes", flush=True)


if __name__ == "__main__":
    main()
