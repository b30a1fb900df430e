"""Fixtures of the encoders issue: tiny random DeBERTa-v2/v3 and sentence-t5 folders with HF outputs.

Every folder holds what HF/sentence-transformers would write (config.json, weights as safetensors, and for
sentence-transformers modules.json + 1_Pooling + 2_Dense + 3_Normalize), plus
  inputs.json    {"input_ids": [B,L] int64, "attention_mask": [B,L] int64} (row 1 is padded)
  expected.json  the reference outputs in the tensor JSON format, computed in float32 from the weights
                 exactly as stored (bf16 folders: the bf16 values upcast), eval mode.

- deberta-v3-tiny-buckets-small   share_att_key, pos_att_type "p2c|c2p", norm_rel_ebd layer_norm,
                                  position_buckets 4 < L, max_position_embeddings 8 < L (L = 12), fp32
- deberta-v3-tiny-bf16            pos_att_type as a list, position_buckets 32 > L, bf16 on disk
- deberta-v2-tiny-classic         separate pos_key_proj/pos_query_proj, no buckets, max_relative_positions 5,
                                  absolute positions + token types, embedding_size != hidden_size,
                                  c2p only, weights under "deberta." with an unused classifier head
- sentence-t5-tiny                T5 v1.0 (relu), d_kv*heads != d_model, bucket cap reached (L = 16 >
                                  max_distance 10), legacy Pooling config (mean), Dense no bias Identity
- sentence-t5-tiny-gated-bf16     T5 v1.1 gated-gelu, bf16 on disk, Pooling "max", Dense with bias + Tanh
- relative-position-buckets       DeBERTa make_log_bucket_position and T5 _relative_position_bucket over a
                                  range of distances, for exact comparison of the Java bucket functions
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import DebertaV2Config, DebertaV2ForSequenceClassification, DebertaV2Model, T5Config, T5EncoderModel
from transformers.models.deberta_v2.modeling_deberta_v2 import make_log_bucket_position
from transformers.models.t5.modeling_t5 import T5Attention

from common import fresh_dir, seed_all, tensor_json, write_json


def _inputs(vocab: int, length: int, short: int, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, vocab, (2, length), generator=g)
    mask = torch.ones(2, length, dtype=torch.long)
    mask[1, short:] = 0
    ids[1, short:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def _tidy(out: str) -> None:
    for f in ("generation_config.json",):
        p = os.path.join(out, f)
        if os.path.exists(p):
            os.remove(p)


def _randomize(model: torch.nn.Module, seed: int) -> None:
    """Non-trivial values everywhere (HF init leaves LayerNorm at 1/0 and biases at 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 if p.dim() > 1 else 0.2) + (1.0 if "LayerNorm.weight" in name or "layer_norm.weight" in name else 0.0))


def _deberta(name: str, config: DebertaV2Config, dtype: torch.dtype, length: int, short: int, seed: int,
             with_head: bool = False) -> None:
    seed_all(seed)
    model = (DebertaV2ForSequenceClassification(config) if with_head else DebertaV2Model(config)).eval()
    _randomize(model, seed)
    out = fresh_dir(name)
    model.to(dtype).save_pretrained(out, safe_serialization=True)
    _tidy(out)
    model = model.float()
    base = model.deberta if with_head else model
    inputs = _inputs(config.vocab_size, length, short, seed + 1)
    with torch.no_grad():
        o = base(**inputs, output_hidden_states=True)
    write_json(os.path.join(out, "inputs.json"), {k: tensor_json(v) for k, v in inputs.items()})
    write_json(os.path.join(out, "expected.json"), {
        "last_hidden_state": tensor_json(o.last_hidden_state),
        "hidden_states": [tensor_json(h) for h in o.hidden_states],
    })


def deberta_fixtures() -> None:
    common = dict(vocab_size=96, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                  hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-7)
    _deberta("deberta-v3-tiny-buckets-small", DebertaV2Config(
        **common, max_position_embeddings=8, relative_attention=True, position_buckets=4, max_relative_positions=-1,
        pos_att_type="p2c|c2p", share_att_key=True, norm_rel_ebd="layer_norm", position_biased_input=False,
        type_vocab_size=0), torch.float32, length=12, short=7, seed=401)
    _deberta("deberta-v3-tiny-bf16", DebertaV2Config(
        **common, max_position_embeddings=64, relative_attention=True, position_buckets=32, max_relative_positions=-1,
        pos_att_type=["p2c", "c2p"], share_att_key=True, norm_rel_ebd="layer_norm", position_biased_input=False,
        type_vocab_size=0), torch.bfloat16, length=12, short=5, seed=402)
    _deberta("deberta-v2-tiny-classic", DebertaV2Config(
        **{**common, "hidden_act": "gelu"}, embedding_size=24, max_position_embeddings=32, relative_attention=True,
        position_buckets=-1, max_relative_positions=5, pos_att_type="c2p", share_att_key=False, norm_rel_ebd="none",
        position_biased_input=True, type_vocab_size=2, num_labels=3), torch.float32, length=10, short=6, seed=403,
        with_head=True)


def _st_expected(model: T5EncoderModel, inputs: dict, pooling: str, dense_w, dense_b, act) -> dict:
    """sentence-transformers' Transformer → Pooling → Dense → Normalize, in plain torch (same formulas)."""
    with torch.no_grad():
        tok = model(**inputs).last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).to(tok.dtype)
        if pooling == "mean":
            pooled = (tok * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
        elif pooling == "max":
            pooled = tok.masked_fill(mask == 0, float("-inf")).max(dim=1).values
        else:
            raise ValueError(pooling)
        dense = torch.nn.functional.linear(pooled, dense_w, dense_b)
        dense = act(dense)
        sent = torch.nn.functional.normalize(dense, p=2, dim=-1)
    return {"token_embeddings": tensor_json(tok), "sentence_embedding": tensor_json(sent)}


def _sentence_t5(name: str, config: T5Config, dtype: torch.dtype, pooling_config: dict, pooling: str,
                 out_features: int, bias: bool, act_name: str, length: int, short: int, seed: int) -> None:
    seed_all(seed)
    model = T5EncoderModel(config).eval()
    _randomize(model, seed)
    g = torch.Generator().manual_seed(seed + 7)
    dense_w = torch.randn(out_features, config.d_model, generator=g) * 0.3
    dense_b = torch.randn(out_features, generator=g) * 0.2 if bias else None
    out = fresh_dir(name)
    model.to(dtype).save_pretrained(out, safe_serialization=True)
    _tidy(out)
    model = model.float()
    dense_w = dense_w.to(dtype).float()
    dense_b = dense_b.to(dtype).float() if bias else None
    write_json(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
        {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": 256, "do_lower_case": False})
    os.makedirs(os.path.join(out, "1_Pooling"))
    write_json(os.path.join(out, "1_Pooling", "config.json"), pooling_config)
    os.makedirs(os.path.join(out, "2_Dense"))
    write_json(os.path.join(out, "2_Dense", "config.json"), {
        "in_features": config.d_model, "out_features": out_features, "bias": bias, "activation_function": act_name})
    tensors = {"linear.weight": dense_w.to(dtype).contiguous()}
    if bias:
        tensors["linear.bias"] = dense_b.to(dtype).contiguous()
    save_file(tensors, os.path.join(out, "2_Dense", "model.safetensors"), metadata={"format": "pt"})
    act = torch.tanh if act_name == "torch.nn.modules.activation.Tanh" else (lambda x: x)
    inputs = _inputs(config.vocab_size, length, short, seed + 1)
    write_json(os.path.join(out, "inputs.json"), {k: tensor_json(v) for k, v in inputs.items()})
    write_json(os.path.join(out, "expected.json"), _st_expected(model, inputs, pooling, dense_w, dense_b, act))


def sentence_t5_fixtures() -> None:
    common = dict(vocab_size=100, d_model=32, d_kv=12, num_heads=4, num_layers=2, d_ff=64, dropout_rate=0.0,
                  relative_attention_num_buckets=8, relative_attention_max_distance=10, layer_norm_epsilon=1e-6,
                  is_encoder_decoder=False, use_cache=False)
    _sentence_t5("sentence-t5-tiny", T5Config(**common, feed_forward_proj="relu"), torch.float32, {
        "word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False},
        "mean", out_features=24, bias=False, act_name="torch.nn.modules.linear.Identity", length=16, short=9,
        seed=501)
    _sentence_t5("sentence-t5-tiny-gated-bf16", T5Config(**common, feed_forward_proj="gated-gelu"),
                 torch.bfloat16, {"embedding_dimension": 32, "pooling_mode": "max"}, "max", out_features=20,
                 bias=True, act_name="torch.nn.modules.activation.Tanh", length=14, short=6, seed=502)


def bucket_tables() -> None:
    out = fresh_dir("relative-position-buckets")
    d = torch.arange(-1500, 1501, dtype=torch.long)
    tables = {"distance": tensor_json(d)}
    for bucket, maxpos in ((256, 512), (4, 8), (32, 64), (64, 128), (256, 1024)):
        tables[f"deberta_{bucket}_{maxpos}"] = tensor_json(make_log_bucket_position(d, bucket, maxpos).to(torch.long))
    for buckets, dist in ((32, 128), (8, 10), (32, 64)):
        tables[f"t5_{buckets}_{dist}"] = tensor_json(
            T5Attention._relative_position_bucket(d, bidirectional=True, num_buckets=buckets, max_distance=dist))
    write_json(os.path.join(out, "expected.json"), tables)


def main() -> None:
    deberta_fixtures()
    sentence_t5_fixtures()
    bucket_tables()


if __name__ == "__main__":
    main()
