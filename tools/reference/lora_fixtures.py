#!/usr/bin/env python3
"""Reference fixtures for LoRA adapters (issue 10): PEFT adapters on the tiny decoder fixtures.

For each base fixture (fixtures/tiny-phi, tiny-mistral-gqa2, tiny-gemma-bf16) this writes
fixtures/lora/<name>/ with
- adapter_config.json + adapter_model.safetensors: what PEFT's save_pretrained writes, for a LoRA with
  init_lora_weights=False (A and B both random, so the update is not zero) and B scaled up so that the
  adapter moves the logits clearly;
- expected.json: on the base fixture's inputs.json,
    "logits":         PEFT model (base upcast to float32, adapter float32), i.e. W x + s B A x;
    "merged_logits":  merge_and_unload() in the base's stored dtype (bf16 for Gemma: PEFT computes the
                      delta in float32 on CPU and adds it into the bf16 weight), run in float32;
    "merged_weight":  one merged weight as stored (the first target of layer 0), for an exact check;
    "train":          labels (the ids, -100 on padding, on each row's first two tokens and on a token right
                      after left padding), HF's causal-LM
                      loss on them (shifted inside, mean over the labelled tokens) and the gradient of every
                      lora_A / lora_B tensor (float32 model, dropout 0), under PEFT's saved tensor names.
Also fixtures/lora-train/<name>/: 5 AdamW steps of a fresh PEFT LoRA (see make_training).
Run from the repository root:  /tmp/ref/bin/python tools/reference/lora_fixtures.py
(torch 2.13 CPU, transformers, peft 0.21). Deterministic; CI never runs it.
"""
import json
import os
import shutil

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from common import REPO, seed_all, tensor_json, write_json

BASES = {
    # name: (targets, r, alpha, rslora)
    "tiny-phi": (["q_proj", "k_proj", "v_proj", "dense"], 4, 8, False),
    "tiny-mistral-gqa2": (["q_proj", "k_proj", "v_proj", "o_proj"], 4, 16, False),
    "tiny-gemma-bf16": (["q_proj", "v_proj", "gate_proj", "down_proj"], 2, 4, True),
}


def inputs(base_dir):
    with open(os.path.join(base_dir, "inputs.json")) as f:
        d = json.load(f)

    return (torch.tensor(d["input_ids"]["data"], dtype=torch.long),
            torch.tensor(d["attention_mask"]["data"], dtype=torch.long))


def make(name, targets, r, alpha, rslora):
    base_dir = os.path.join(REPO, "fixtures", name)
    out = os.path.join(REPO, "fixtures", "lora", name)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    ids, mask = inputs(base_dir)
    seed_all(1234)
    stored = AutoModelForCausalLM.from_pretrained(base_dir)  # the stored dtype (bf16 for gemma)
    stored_dtype = stored.dtype
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    cfg = LoraConfig(r=r, lora_alpha=alpha, target_modules=targets, lora_dropout=0.0, bias="none",
                     init_lora_weights=False, use_rslora=rslora, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, cfg)
    with torch.no_grad():
        for n, p in peft_model.named_parameters():
            if "lora_B" in n:
                p.mul_(20.0)
    peft_model.eval()
    peft_model.save_pretrained(out)
    os.remove(os.path.join(out, "README.md"))  # PEFT's model card template
    with open(os.path.join(out, "adapter_config.json")) as f:
        ac = json.load(f)
    ac["base_model_name_or_path"] = f"fixtures/{name}"  # not this machine's absolute path
    ac["target_modules"] = sorted(ac["target_modules"])  # PEFT keeps a set: fixed order here
    with open(os.path.join(out, "adapter_config.json"), "w") as f:
        json.dump(ac, f, indent=2, sort_keys=True)
        f.write("\n")
    with torch.no_grad():
        logits = peft_model(input_ids=ids, attention_mask=mask).logits.float()

    # one training pass: loss on labelled tokens and the adapter's gradients
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[:, :2] = -100
    # a token right after left padding would be predicted from a padded position, whose attention sees
    # only padding keys (ill-defined: HF's min-float mask makes it uniform); no such label
    labels[:, 1:][mask[:, :-1] == 0] = -100
    peft_model.train()
    out_train = peft_model(input_ids=ids, attention_mask=mask, labels=labels)
    out_train.loss.backward()
    grads = {}
    for n, p in peft_model.named_parameters():
        if p.grad is not None:
            grads[n.replace(".default", "")] = tensor_json(p.grad)
    peft_model.eval()
    train = {"labels": tensor_json(labels), "loss": out_train.loss.item(), "grads": grads}

    # merge into the stored dtype, as merge-lora does
    from peft import PeftModel
    stored_peft = PeftModel.from_pretrained(stored, out)
    merged = stored_peft.merge_and_unload()
    first = [n for n, _ in merged.named_parameters() if n.startswith("model.layers.0.") and any(
        n.endswith(t + ".weight") for t in targets)][0]
    merged_weight = dict(merged.named_parameters())[first].detach()
    with torch.no_grad():
        merged_logits = merged.float()(input_ids=ids, attention_mask=mask).logits.float()
    diff = (merged_logits - logits).abs().max().item()
    with torch.no_grad():
        plain = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)(
            input_ids=ids, attention_mask=mask).logits.float()
    moved = (logits - plain).abs().max().item()
    write_json(os.path.join(out, "expected.json"), {
        "about": f"PEFT LoRA r={r} alpha={alpha} rslora={rslora} on {targets} of fixtures/{name}; "
                 f"stored dtype {stored_dtype}; inputs: fixtures/{name}/inputs.json",
        "logits": tensor_json(logits),
        "merged_logits": tensor_json(merged_logits),
        "merged_weight_name": first,
        "merged_weight": tensor_json(merged_weight.float()),
        "adapter_moves_logits_by": moved,
        "merged_vs_adapter_max_diff": diff,
        "train": train,
    })
    print(f"{name}: adapter moves logits by {moved:.3g}; merged ({stored_dtype}) vs adapter {diff:.3g}")


TRAIN_STEPS = 5
TRAIN_SETTINGS = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def make_training(name, targets, r, alpha, rslora):
    """5 AdamW steps from PEFT's own init (A kaiming-uniform, B zero) on one fixed batch.

    fixtures/lora-train/<name>/initial/  the adapter before training (PEFT save_pretrained)
    fixtures/lora-train/<name>/expected.json  labels, the loss before each step, and every lora tensor after
                                              the 5 steps (torch.optim.AdamW over the adapter parameters only,
                                              foreach=False, no clipping), float32, dropout 0
    """
    base_dir = os.path.join(REPO, "fixtures", name)
    out = os.path.join(REPO, "fixtures", "lora-train", name)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    ids, mask = inputs(base_dir)
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[:, :2] = -100
    labels[:, 1:][mask[:, :-1] == 0] = -100
    seed_all(99)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    cfg = LoraConfig(r=r, lora_alpha=alpha, target_modules=targets, lora_dropout=0.0, bias="none",
                     use_rslora=rslora, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, cfg)
    peft_model.save_pretrained(os.path.join(out, "initial"))
    os.remove(os.path.join(out, "initial", "README.md"))
    with open(os.path.join(out, "initial", "adapter_config.json")) as f:
        ac = json.load(f)
    ac["base_model_name_or_path"] = f"fixtures/{name}"
    ac["target_modules"] = sorted(ac["target_modules"])
    with open(os.path.join(out, "initial", "adapter_config.json"), "w") as f:
        json.dump(ac, f, indent=2, sort_keys=True)
        f.write("\n")
    params = [p for n, p in peft_model.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, foreach=False, **TRAIN_SETTINGS)
    peft_model.train()
    losses = []
    for _ in range(TRAIN_STEPS):
        opt.zero_grad()
        loss = peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        losses.append(loss.item())
    final = {n.replace(".default", ""): tensor_json(p) for n, p in peft_model.named_parameters() if p.requires_grad}
    write_json(os.path.join(out, "expected.json"), {
        "about": f"{TRAIN_STEPS} torch.optim.AdamW steps {TRAIN_SETTINGS} of a PEFT LoRA (r={r}, alpha={alpha}, "
                 f"rslora={rslora}, {targets}) from initial/ on fixtures/{name}/inputs.json",
        "settings": {"lr": TRAIN_SETTINGS["lr"], "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                     "weight_decay": TRAIN_SETTINGS["weight_decay"], "steps": TRAIN_STEPS},
        "labels": tensor_json(labels),
        "losses": losses,
        "final": final,
    })
    print(f"{name}: training losses {['%.4f' % x for x in losses]}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    for n, (t, r, a, rs) in BASES.items():
        make(n, t, r, a, rs)
        make_training(n, t, r, a, rs)
