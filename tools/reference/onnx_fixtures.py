"""ONNX fixtures for the ONNX weights import (issue 9): a tiny random BertModel exported with
torch.onnx.export (TorchScript exporter, so Linear weights really become onnx::MatMul_N, [in, out]),
and the HF-named tensors of its state_dict as expected.safetensors.

    python tools/reference/onnx_fixtures.py [fixtures/onnx]
"""
import sys
from pathlib import Path

import onnx
import onnxruntime
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertModel


class Wrap(torch.nn.Module):
    """Calls the model with keywords (transformers' forward wrappers reject the tracer's positional call).
    The submodules are registered under the model's own names, so the initializers keep HF names."""

    def __init__(self, model):
        super().__init__()
        for name, child in model.named_children():
            self.add_module(name, child)
        self.__dict__["model"] = model  # not a submodule: no "model." prefix

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)


def main(out_root: Path) -> None:
    out = out_root / "tiny-bert"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=32, type_vocab_size=2)
    model = BertModel._from_config(cfg, attn_implementation="eager").eval()
    # every parameter random: BertModel initialises biases to 0 and LayerNorm to 1, and the exporter keeps one
    # copy of identical initializers, which would leave most biases under another tensor's name
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    ids = torch.randint(0, 100, (1, 8))
    mask = torch.ones_like(ids)
    path = out / "model.onnx"
    torch.onnx.export(Wrap(model).eval(), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state", "pooler_output"], opset_version=17,
                      do_constant_folding=True, dynamo=False)
    # the file must be a valid model that onnxruntime runs and agrees with torch
    onnx.checker.check_model(str(path))
    sess = onnxruntime.InferenceSession(str(path))
    got = sess.run(["last_hidden_state"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state.numpy()
    assert abs(got - want).max() < 1e-4, abs(got - want).max()
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(sd, str(out / "expected.safetensors"))
    cfg.save_pretrained(str(out))
    names = [i.name for i in onnx.load(str(path)).graph.initializer]
    print(f"{path}: {len(names)} initializers, {sum(n.startswith('onnx::') for n in names)} renamed; "
          f"state_dict {len(sd)} tensors")
    for n in names:
        print("  ", n)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "fixtures" / "onnx"))
