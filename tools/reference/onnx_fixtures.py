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


def edge_cases(out_root: Path) -> None:
    """Initializers written by onnx.helper: typed fields and raw_data per data type, and external data."""
    from onnx import TensorProto, helper, numpy_helper

    out = out_root / "edge"
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(1)
    want = {
        "f32": torch.randn(2, 3, generator=g),
        "f16": torch.randn(3, 2, generator=g).half(),
        "bf16": torch.randn(4, generator=g).bfloat16(),
        "i64": torch.tensor([[7, -3], [1 << 40, -(1 << 62)]], dtype=torch.int64),
    }
    kinds = {"f32": TensorProto.FLOAT, "f16": TensorProto.FLOAT16, "bf16": TensorProto.BFLOAT16, "i64": TensorProto.INT64}
    inits, expected = [], {}
    for name, t in want.items():
        vals = t.float().flatten().tolist() if t.is_floating_point() else t.flatten().tolist()
        for raw in (False, True):
            n = f"{name}.{'raw' if raw else 'typed'}"
            if raw:
                data = t.contiguous().view(torch.uint8).numpy().tobytes()
                inits.append(helper.make_tensor(n, kinds[name], list(t.shape), data, raw=True))
            else:
                inits.append(helper.make_tensor(n, kinds[name], list(t.shape), vals, raw=False))
            expected[n] = t.clone()
    graph = helper.make_graph([], "edge", [], [], initializer=inits)
    model = helper.make_model(graph, producer_name="onnx_fixtures.py")
    onnx.save_model(model, str(out / "types.onnx"))
    # the same initializers with their data in one external file beside the model
    ext = helper.make_model(helper.make_graph([], "edge", [], [], initializer=[numpy_helper.from_array(
        numpy_helper.to_array(t), t.name) for t in inits if t.data_type != TensorProto.BFLOAT16]))
    onnx.save_model(ext, str(out / "external.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external.weights", size_threshold=0)
    save_file(expected, str(out / "expected.safetensors"))
    print(f"{out}: {len(inits)} initializers in types.onnx; external.onnx + external.weights")


if __name__ == "__main__":
    edge_cases(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "fixtures" / "onnx"))
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "fixtures" / "onnx"))
