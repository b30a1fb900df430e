"""bf16 references of the decoder fixtures (issue 12: the bf16 compute path).

For each tiny decoder fixture, HF transformers runs the committed folder with dtype=torch.bfloat16
(fp32-stored weights rounded to the nearest bf16, as .to(bfloat16) does; every op in bf16, HF's norms
upcasting internally as their modeling files do) on the fixture's inputs.json, and writes
fixtures/<name>/expected-bf16.json:
- logits [B, L, V] of the bf16 run (as float32 values);
- greedy: HF's greedy continuation in bf16 of the same prompts as expected.json's "greedy" (one prompt at
  a time), with the top-1/top-2 logit gap of each step ("gaps", bf16 logits) and the smallest ("min_gap");
- fp32_max_abs_diff: max |bf16 logits - fp32 logits (expected.json)| over non-padded positions, the
  error bf16 itself makes here (the JVM test's tolerance is stated against it);
- emulated_logits: the float32 model rounded to bf16 exactly where the JVM's bf16 compute path rounds:
  linear and embedding weights rounded to bf16 once; each linear layer's input rounded to bf16 and its
  product (before the bias) rounded to bf16; norms, biases, softmax, rotary and residuals in float32.
- emulated_fused_mlp_logits: the same with the gated MLPs (Llama, Mistral, Gemma) rounded as the JVM's one-op gated
  MLP on oneDNN (PackedGatedMlpOp, where oneDNN 3.3's bf16 kernels run): x rounded to bf16 once,
  g = bf16(act(x gate)), p = bf16((x up) * g), out = bf16(p down).
Run: /tmp/ref/bin/python tools/reference/bf16_fixtures.py
"""
import json
import os

import torch
from transformers import AutoModelForCausalLM

from common import REPO, tensor_json, write_json

NAMES = ["tiny-mistral-gqa2", "tiny-llama-gqa3-bf16", "tiny-phi", "tiny-gemma-bf16"]


def _tensor(d):
    return torch.tensor(d["data"]).reshape(d["shape"])


def _bf16(t):
    return t.to(torch.bfloat16).float()


def _fused_mlp(self, x):
    xb = _bf16(x)
    g = _bf16(self.act_fn(torch.nn.functional.linear(xb, self.gate_proj.weight)))
    p = _bf16(torch.nn.functional.linear(xb, self.up_proj.weight) * g)
    return _bf16(torch.nn.functional.linear(p, self.down_proj.weight))


def _emulated(folder, ids, mask, fused_mlp=False):
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Embedding)):
                m.weight.copy_(_bf16(m.weight))
    if fused_mlp:
        for m in model.modules():
            if all(hasattr(m, a) for a in ("gate_proj", "up_proj", "down_proj", "act_fn")):
                m.forward = _fused_mlp.__get__(m)

    def linear(self, x):
        y = _bf16(torch.nn.functional.linear(_bf16(x), self.weight))
        return y if self.bias is None else y + self.bias

    original = torch.nn.Linear.forward
    torch.nn.Linear.forward = linear
    try:
        with torch.no_grad():
            return model(input_ids=ids, attention_mask=mask).logits.float()
    finally:
        torch.nn.Linear.forward = original


def main() -> None:
    torch.manual_seed(0)
    for name in NAMES:
        folder = os.path.join(REPO, "fixtures", name)
        inputs = json.load(open(os.path.join(folder, "inputs.json")))
        expected = json.load(open(os.path.join(folder, "expected.json")))
        ids = _tensor(inputs["input_ids"]).long()
        mask = _tensor(inputs["attention_mask"]).long()
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16).eval()
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
        fp32 = _tensor(expected["logits"]).float()
        valid = mask.bool()
        diff = float((logits - fp32).abs()[valid].max())
        scale = float(fp32.abs()[valid].max())
        greedy = []
        for case in expected["greedy"]:
            prompt = torch.tensor([case["prompt"]])
            n = expected["greedy_max_new_tokens"]
            with torch.no_grad():
                out = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                     max_new_tokens=n, min_new_tokens=n, output_scores=True,
                                     return_dict_in_generate=True, pad_token_id=0, eos_token_id=None)
            gaps = [float(torch.topk(s[0].float(), 2).values[0] - torch.topk(s[0].float(), 2).values[1])
                    for s in out.scores]
            greedy.append({"prompt": case["prompt"], "generated": out.sequences[0, prompt.shape[1]:].tolist(),
                           "fp32_generated": case["generated"], "gaps": gaps, "min_gap": min(gaps)})
        emulated = _emulated(folder, ids, mask)
        fused = _emulated(folder, ids, mask, fused_mlp=True)
        write_json(os.path.join(folder, "expected-bf16.json"),
                   {"logits": tensor_json(logits), "emulated_logits": tensor_json(emulated),
                    "emulated_fused_mlp_logits": tensor_json(fused),
                    "greedy": greedy, "greedy_max_new_tokens": n,
                    "fp32_max_abs_diff": diff, "fp32_max_abs_logit": scale})
        same = sum(g["generated"] == g["fp32_generated"] for g in greedy)
        print(f"{name}: bf16 vs fp32 max |diff| {diff:.4f} (max |logit| {scale:.2f}); greedy equal to fp32 "
              f"for {same}/{len(greedy)}; min gaps {[round(g['min_gap'], 3) for g in greedy]}")


if __name__ == "__main__":
    main()
