"""Fixtures of BERT (issue 9): tiny random sentence-transformers folders of HF BertModel with reference outputs.

Every folder holds what sentence-transformers would write for a BERT model (config.json, weights, modules.json,
1_Pooling/config.json, sentence_bert_config.json), plus
  inputs.json    {"input_ids": [B,L] int64, "attention_mask": [B,L] int64} (row 1 is right-padded)
  expected.json  last_hidden_state and hidden_states of HF BertModel (eager attention, token_type_ids all 0),
                 token_embeddings and sentence_embedding of the folder loaded back by sentence-transformers,
                 all computed in float32 from the weights as stored (bf16 folders: the bf16 values upcast).

- bert-tiny-mean       fp32 as pytorch_model.bin, mean pooling (legacy booleans) + Normalize (2_Normalize
                       folder present), type_vocab_size 2, max_seq_length 16, do_lower_case true
- bert-tiny-cls-bf16   bf16 model.safetensors, CLS pooling ("pooling_mode": "cls"), 2_Normalize listed in
                       modules.json but its folder absent (as all-MiniLM/bge folders come from the hub)
"""
import os

import torch
from sentence_transformers import SentenceTransformer
from transformers import BertConfig, BertModel

from common import fresh_dir, seed_all, tensor_json, write_json


def _inputs(vocab: int, length: int, short: int, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, vocab, (2, length), generator=g)
    mask = torch.ones(2, length, dtype=torch.long)
    mask[1, short:] = 0
    ids[1, short:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def _randomize(model: torch.nn.Module, seed: int) -> None:
    """Non-trivial values everywhere (HF init leaves LayerNorm at 1/0 and biases at 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 if p.dim() > 1 else 0.2)
                    + (1.0 if "LayerNorm.weight" in name else 0.0))


def _bert(name: str, config: BertConfig, dtype: torch.dtype, bin_weights: bool, pooling_config: dict,
          normalize_folder: bool, max_seq_length: int, length: int, short: int, seed: int) -> None:
    seed_all(seed)
    model = BertModel(config, add_pooling_layer=True).eval()
    _randomize(model, seed)
    model = model.to(dtype).float()  # the values as stored
    out = fresh_dir(name)
    config.torch_dtype = dtype
    config.save_pretrained(out)
    state = {k: v.to(dtype).contiguous() for k, v in model.state_dict().items()}
    if bin_weights:
        torch.save(state, os.path.join(out, "pytorch_model.bin"))
    else:
        from safetensors.torch import save_file
        save_file(state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": max_seq_length, "do_lower_case": True})
    os.makedirs(os.path.join(out, "1_Pooling"))
    write_json(os.path.join(out, "1_Pooling", "config.json"), pooling_config)
    if normalize_folder:
        os.makedirs(os.path.join(out, "2_Normalize"))
        write_json(os.path.join(out, "2_Normalize", "config.json"), {})

    inputs = _inputs(config.vocab_size, length, short, seed + 1)
    features = dict(inputs, token_type_ids=torch.zeros_like(inputs["input_ids"]))
    with torch.no_grad():
        o = model(**features, output_hidden_states=True)
        st = SentenceTransformer(out, device="cpu").float().eval()
        s = st(dict(features))
    write_json(os.path.join(out, "inputs.json"), {k: tensor_json(v) for k, v in inputs.items()})
    write_json(os.path.join(out, "expected.json"), {
        "last_hidden_state": tensor_json(o.last_hidden_state),
        "hidden_states": [tensor_json(h) for h in o.hidden_states],
        "token_embeddings": tensor_json(s["token_embeddings"]),
        "sentence_embedding": tensor_json(s["sentence_embedding"]),
    })
    d = (s["token_embeddings"] - o.last_hidden_state).abs() * inputs["attention_mask"].unsqueeze(-1)
    print(f"{name}: sentence-transformers vs BertModel token states max |diff| {float(d.max()):.3g}")


def main() -> None:
    common = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                  hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                  attn_implementation="eager")
    _bert("bert-tiny-mean", BertConfig(**common, vocab_size=120, max_position_embeddings=24, type_vocab_size=2,
                                       layer_norm_eps=1e-12),
          torch.float32, bin_weights=True,
          pooling_config={"word_embedding_dimension": 32, "pooling_mode_cls_token": False,
                          "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                          "pooling_mode_mean_sqrt_len_tokens": False},
          normalize_folder=True, max_seq_length=16, length=12, short=7, seed=901)
    _bert("bert-tiny-cls-bf16", BertConfig(**common, vocab_size=128, max_position_embeddings=32, type_vocab_size=2,
                                           layer_norm_eps=1e-12),
          torch.bfloat16, bin_weights=False,
          pooling_config={"word_embedding_dimension": 32, "pooling_mode": "cls"},
          normalize_folder=False, max_seq_length=32, length=10, short=4, seed=902)


if __name__ == "__main__":
    main()
