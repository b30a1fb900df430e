"""Fixtures of the decoders issue (phi-2 / Mistral / Llama / Gemma causal LMs and generation).

Each tiny random model folder fixtures/<name>/ holds what transformers' save_pretrained writes, plus
- inputs.json:   input_ids and attention_mask [B, L] (row 1 right-padded, row 2 left-padded);
- expected.json: logits [B, L, V] of HF in float32 (bf16-on-disk models are upcast with .float() first),
                 and "greedy": prompts with HF's greedy continuation (generate, do_sample=False) run one
                 prompt at a time, with the smallest top-1/top-2 logit gap seen ("min_gap").
Weights use a large initializer_range so logits have clear top-1/top-2 gaps.

Also
- fixtures/stories260K-greedy/expected.json: greedy ids of the real llama2.c checkpoint
  ../shared/conformance/models/stories260K/stories260K.bin (read here, never committed), run through HF
  LlamaForCausalLM and cross-checked against a plain llama2.c-style torch forward (interleaved RoPE).
- fixtures/chat-templates/expected.json: strings rendered by transformers' render_jinja_template for
  the Mistral-7B-Instruct-v0.2 templates (old and new hub revisions) and Gemma-7b-it's template.
"""
import json
import os
import struct

import numpy as np
import torch
from transformers import (GemmaConfig, GemmaForCausalLM, LlamaConfig, LlamaForCausalLM, MistralConfig,
                          MistralForCausalLM, PhiConfig, PhiForCausalLM)

from common import REPO, fresh_dir, seed_all, tensor_json, write_json

SHARED = os.path.join(REPO, "..", "shared")
GREEDY_NEW = 8


def _strip(out: str) -> None:
    p = os.path.join(out, "generation_config.json")
    if os.path.exists(p):
        os.remove(p)


def _inputs(vocab: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (3, 8), generator=g)
    mask = torch.ones(3, 8, dtype=torch.long)
    mask[1, 5:] = 0  # right padding
    mask[2, :3] = 0  # left padding
    ids[1, 5:] = 0
    ids[2, :3] = 0
    return ids, mask


def _greedy(model, vocab: int, seed: int):
    g = torch.Generator().manual_seed(seed + 1)
    cases = []
    for length in (3, 7, 5):
        prompt = torch.randint(3, vocab, (1, length), generator=g)
        out = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                             max_new_tokens=GREEDY_NEW, min_new_tokens=GREEDY_NEW, output_scores=True,
                             return_dict_in_generate=True, pad_token_id=0, eos_token_id=None)
        gaps = []
        for s in out.scores:
            top = torch.topk(s[0].float(), 2).values
            gaps.append(float(top[0] - top[1]))
        cases.append({"prompt": prompt[0].tolist(), "generated": out.sequences[0, length:].tolist(),
                      "min_gap": min(gaps)})
    return cases


def _save(name: str, model, config, disk_dtype, seed: int) -> None:
    out = fresh_dir(name)
    model.to(disk_dtype).save_pretrained(out, safe_serialization=True)
    _strip(out)
    # reload in float32 (upcasting the stored values): converting the live model back with .float() would
    # keep the rotary inv_freq buffer rounded to bf16 by the .to(bfloat16) above
    model = type(model).from_pretrained(out, dtype=torch.float32).eval()
    ids, mask = _inputs(config.vocab_size, seed)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
        greedy = _greedy(model, config.vocab_size, seed)
    write_json(os.path.join(out, "inputs.json"), {"input_ids": tensor_json(ids), "attention_mask": tensor_json(mask)})
    write_json(os.path.join(out, "expected.json"), {"logits": tensor_json(logits), "greedy": greedy,
                                                     "greedy_max_new_tokens": GREEDY_NEW})
    print(name, "min gaps", [round(c["min_gap"], 4) for c in greedy])


def tiny_mistral() -> None:
    """fp32, GQA group 2, sliding window 5 (shorter than the 8-token inputs), rope_theta 1e6."""
    seed_all(11)
    config = MistralConfig(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                           sliding_window=5, rope_theta=1e6, initializer_range=0.25, tie_word_embeddings=False)
    _save("tiny-mistral-gqa2", MistralForCausalLM(config).eval(), config, torch.float32, 11)


def tiny_llama() -> None:
    """bf16 on disk, GQA group 3 (6 heads, 2 KV heads), llama model_type, no sliding window."""
    seed_all(12)
    config = LlamaConfig(vocab_size=80, hidden_size=48, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=64,
                         rope_theta=10000.0, initializer_range=0.25, tie_word_embeddings=False, rms_norm_eps=1e-5)
    _save("tiny-llama-gqa3-bf16", LlamaForCausalLM(config).eval(), config, torch.bfloat16, 12)


def tiny_phi() -> None:
    """fp32, head_dim 16 with partial_rotary_factor 0.4 -> rotary dim int(6.4) = 6 (truncated)."""
    seed_all(13)
    config = PhiConfig(vocab_size=100, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                       num_attention_heads=4, max_position_embeddings=64, partial_rotary_factor=0.4,
                       hidden_act="gelu_new", initializer_range=0.25, tie_word_embeddings=False)
    model = PhiForCausalLM(config).eval()
    with torch.no_grad():  # biases start at zero: make them matter
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.1)
    _save("tiny-phi", model, config, torch.float32, 13)


def tiny_gemma() -> None:
    """bf16 on disk, multi-query (1 KV head), head_dim 16 from config (hidden 32 / 4 heads would be 8), tied."""
    seed_all(14)
    config = GemmaConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=1, head_dim=16, max_position_embeddings=64,
                         hidden_activation="gelu_pytorch_tanh", initializer_range=0.25)
    model = GemmaForCausalLM(config).eval()
    with torch.no_grad():  # RMSNorm weights start at zero in Gemma's (1 + w) form: make them matter
        for name, p in model.named_parameters():
            if "norm" in name:
                p.normal_(0.0, 0.3)
    _save("tiny-gemma-bf16", model, config, torch.bfloat16, 14)


# ---------------------------------------------------------------------------------------------- llama2.c

def read_llama2c(path: str):
    """Legacy (version 0) llama2.c checkpoint: 7 int32 header, then float32 tensors."""
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack("7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    a = np.frombuffer(data, dtype=np.float32, offset=28)
    kv_dim = dim * kv_heads // heads
    head = dim // heads
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        t = torch.from_numpy(a[pos:pos + n].copy()).reshape(*shape)
        pos += n
        return t

    w = {"emb": take(vocab, dim), "rms_att": take(layers, dim), "wq": take(layers, dim, dim),
         "wk": take(layers, kv_dim, dim), "wv": take(layers, kv_dim, dim), "wo": take(layers, dim, dim),
         "rms_ffn": take(layers, dim), "w1": take(layers, hidden, dim), "w2": take(layers, dim, hidden),
         "w3": take(layers, hidden, dim), "rms_final": take(dim)}
    take(seq_len, head // 2)
    take(seq_len, head // 2)
    w["cls"] = w["emb"] if shared else take(vocab, dim)
    assert pos == a.size, (pos, a.size)
    hp = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, vocab=vocab, seq_len=seq_len)
    return hp, w


def _permute(w, n_heads, dim1, dim2):
    """Meta's interleaved rotary layout -> HF's rotate_half layout (convert_llama_weights_to_hf)."""
    return w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)


def llama2c_to_hf(hp, w):
    config = LlamaConfig(vocab_size=hp["vocab"], hidden_size=hp["dim"], intermediate_size=hp["hidden"],
                         num_hidden_layers=hp["layers"], num_attention_heads=hp["heads"],
                         num_key_value_heads=hp["kv_heads"], max_position_embeddings=hp["seq_len"],
                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True)
    model = LlamaForCausalLM(config).eval()
    kv_dim = hp["dim"] * hp["kv_heads"] // hp["heads"]
    sd = {"model.embed_tokens.weight": w["emb"], "model.norm.weight": w["rms_final"], "lm_head.weight": w["cls"]}
    for i in range(hp["layers"]):
        p = f"model.layers.{i}."
        sd[p + "input_layernorm.weight"] = w["rms_att"][i]
        sd[p + "post_attention_layernorm.weight"] = w["rms_ffn"][i]
        sd[p + "self_attn.q_proj.weight"] = _permute(w["wq"][i], hp["heads"], hp["dim"], hp["dim"])
        sd[p + "self_attn.k_proj.weight"] = _permute(w["wk"][i], hp["kv_heads"], kv_dim, hp["dim"])
        sd[p + "self_attn.v_proj.weight"] = w["wv"][i]
        sd[p + "self_attn.o_proj.weight"] = w["wo"][i]
        sd[p + "mlp.gate_proj.weight"] = w["w1"][i]
        sd[p + "mlp.down_proj.weight"] = w["w2"][i]
        sd[p + "mlp.up_proj.weight"] = w["w3"][i]
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and all("rotary" in m for m in missing), (missing, unexpected)
    return model


def llama2c_forward(hp, w, ids):
    """llama2.c's run.c forward in torch (interleaved complex RoPE), all positions; returns logits [L, V]."""
    dim, heads, kvh = hp["dim"], hp["heads"], hp["kv_heads"]
    hd = dim // heads
    L = len(ids)

    def rms(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * g

    def rope(x):  # [L, H, hd], pairs (2i, 2i+1)
        freq = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.arange(L).float()[:, None] * freq[None, :]
        c, s = ang.cos()[:, None, :], ang.sin()[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = torch.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    x = w["emb"][torch.tensor(ids)]
    causal = torch.full((L, L), float("-inf")).triu(1)
    for i in range(hp["layers"]):
        h = rms(x, w["rms_att"][i])
        q = rope((h @ w["wq"][i].T).view(L, heads, hd))
        k = rope((h @ w["wk"][i].T).view(L, kvh, hd)).repeat_interleave(heads // kvh, dim=1)
        v = (h @ w["wv"][i].T).view(L, kvh, hd).repeat_interleave(heads // kvh, dim=1)
        att = torch.einsum("qhd,khd->hqk", q, k) / hd ** 0.5 + causal
        o = torch.einsum("hqk,khd->qhd", att.softmax(-1), v).reshape(L, dim)
        x = x + o @ w["wo"][i].T
        h = rms(x, w["rms_ffn"][i])
        x = x + (torch.nn.functional.silu(h @ w["w1"][i].T) * (h @ w["w3"][i].T)) @ w["w2"][i].T
    return rms(x, w["rms_final"]) @ w["cls"].T


def stories260k() -> None:
    path = os.path.join(SHARED, "conformance", "models", "stories260K", "stories260K.bin")
    if not os.path.exists(path):
        print("stories260K: ../shared absent, skipped")
        return
    hp, w = read_llama2c(path)
    model = llama2c_to_hf(hp, w)
    cases = []
    # prompts chosen where every step's top-1/top-2 gap is clear (> 0.03)
    for prompt, new in (([1], 30), ([1, 309], 30), ([1, 86, 8, 260, 6], 30), ([1, 493, 239, 441, 474, 93, 198], 30)):
        with torch.no_grad():
            out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                 do_sample=False, max_new_tokens=new, min_new_tokens=new, eos_token_id=None,
                                 pad_token_id=0, output_scores=True, return_dict_in_generate=True)
            seq = out.sequences[0].tolist()
            plain = llama2c_forward(hp, w, seq[:-1])
            hf = model(torch.tensor([seq[:-1]])).logits[0]
        diff = float((plain - hf).abs().max())
        assert diff < 1e-4, diff
        assert plain[len(prompt) - 1:].argmax(-1).tolist() == seq[len(prompt):]
        gaps = [float(torch.topk(s[0], 2).values[0] - torch.topk(s[0], 2).values[1]) for s in out.scores]
        cases.append({"prompt": prompt, "generated": seq[len(prompt):], "min_gap": min(gaps),
                      "first_logits": plain[0, :8].tolist(), "plain_vs_hf_max_abs": diff})
    out_dir = fresh_dir("stories260K-greedy")
    write_json(os.path.join(out_dir, "expected.json"), {
        "checkpoint": "../shared/conformance/models/stories260K/stories260K.bin",
        "header": hp, "greedy": cases})
    print("stories260K min gaps", [round(c["min_gap"], 4) for c in cases])


def tiny_llama2c_v1() -> None:
    """A tiny random checkpoint written in llama2.c's version-1 layout (export.py's version1_export)."""
    seed_all(15)
    hp = dict(dim=16, hidden=24, layers=2, heads=4, kv_heads=2, vocab=40, seq_len=32)
    kv_dim = hp["dim"] * hp["kv_heads"] // hp["heads"]
    L, d, h = hp["layers"], hp["dim"], hp["hidden"]
    w = {"emb": torch.randn(hp["vocab"], d), "rms_att": 1 + 0.2 * torch.randn(L, d),
         "wq": 0.4 * torch.randn(L, d, d), "wk": 0.4 * torch.randn(L, kv_dim, d), "wv": 0.4 * torch.randn(L, kv_dim, d),
         "wo": 0.4 * torch.randn(L, d, d), "rms_ffn": 1 + 0.2 * torch.randn(L, d), "w1": 0.4 * torch.randn(L, h, d),
         "w2": 0.4 * torch.randn(L, d, h), "w3": 0.4 * torch.randn(L, h, d), "rms_final": 1 + 0.2 * torch.randn(d)}
    w["cls"] = w["emb"]
    out = fresh_dir("tiny-llama2c-v1")
    with open(os.path.join(out, "model.bin"), "wb") as f:
        f.write(struct.pack("I", 0x616b3432))
        f.write(struct.pack("i", 1))
        f.write(struct.pack("iiiiiii", d, h, L, hp["heads"], hp["kv_heads"], hp["vocab"], hp["seq_len"]))
        f.write(struct.pack("B", 1))
        f.write(b"\0" * (256 - f.tell()))
        tensors = [*w["rms_att"], *w["rms_ffn"], w["rms_final"], w["emb"], *w["wq"], *w["wk"], *w["wv"], *w["wo"],
                   *w["w1"], *w["w2"], *w["w3"]]
        for t in tensors:
            f.write(t.contiguous().numpy().astype("<f4").tobytes())
    model = llama2c_to_hf(hp, w)
    ids = [1, 7, 21, 3, 33, 12]
    with torch.no_grad():
        plain = llama2c_forward(hp, w, ids)
        hf = model(torch.tensor([ids])).logits[0]
        assert float((plain - hf).abs().max()) < 1e-4
        gen = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             do_sample=False, max_new_tokens=10, min_new_tokens=10, eos_token_id=None, pad_token_id=0,
                             output_scores=True, return_dict_in_generate=True)
    gaps = [float(torch.topk(s[0], 2).values[0] - torch.topk(s[0], 2).values[1]) for s in gen.scores]
    write_json(os.path.join(out, "expected.json"), {
        "input_ids": ids, "logits": tensor_json(hf),
        "greedy": [{"prompt": ids, "generated": gen.sequences[0, len(ids):].tolist(), "min_gap": min(gaps)}]})
    print("tiny-llama2c-v1 min gap", round(min(gaps), 4))


# ---------------------------------------------------------------------------------------------- chat templates

# Mistral-7B-Instruct-v0.2's chat_template as first published (the competition's era) ...
MISTRAL_V02_OLD = ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
                   "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
                   "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
                   "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
                   "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
                   "roles are supported!') }}{% endif %}{% endfor %}")
# ... and the later revision with an optional system message and spaces around [INST].
MISTRAL_V02_NEW = ("{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n"
                   "    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n"
                   "{%- endif %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n"
                   "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
                   "        {{- raise_exception('After the optional system message, conversation roles must alternate "
                   "user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == 'user' %}\n"
                   "        {%- if loop.first and system_message is defined %}\n"
                   "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
                   "        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n"
                   "        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n"
                   "        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n"
                   "        {{- raise_exception('Only user and assistant roles are supported, with the exception of "
                   "an initial optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n")
GEMMA_IT = ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
            "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
            "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
            "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}")


def chat_templates() -> None:
    from transformers.utils.chat_template_utils import render_jinja_template
    conversations = [
        [{"role": "user", "content": "Rewrite this text as a poem:\nThe cat sat."}],
        [{"role": "user", "content": "  Hi there  "}, {"role": "assistant", "content": "Hello!"},
         {"role": "user", "content": "Make it shorter."}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Improve: it is good."}],
        [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    ]
    templates = {"mistral-v0.2-old": (MISTRAL_V02_OLD, "<s>", "</s>"),
                 "mistral-v0.2-new": (MISTRAL_V02_NEW, "<s>", "</s>"),
                 "gemma-it": (GEMMA_IT, "<bos>", "<eos>")}
    cases = []
    for name, (template, bos, eos) in templates.items():
        for conv in conversations:
            for gen in (False, True):
                case = {"template": name, "messages": conv, "add_generation_prompt": gen}
                try:
                    rendered, _ = render_jinja_template([conv], chat_template=template, add_generation_prompt=gen,
                                                        bos_token=bos, eos_token=eos)
                    case["rendered"] = rendered[0]
                except Exception as e:  # the template refuses this conversation (raise_exception)
                    case["error"] = str(e)
                cases.append(case)
    # ids as apply_chat_template(tokenize=True) gives them (no extra special tokens), with the real Mistral
    # tokenizer from ../shared: for the Java tokenizer once it is merged
    tok_dir = os.path.join(SHARED, "conformance", "tokenizers", "mistral-7b-instruct-v0.2")
    if os.path.isdir(tok_dir):
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(tok_dir)
        # the same text through the shipped tokenizer.json with the `tokenizers` library: transformers 5 rebuilds
        # LlamaTokenizer with a Metaspace pre-tokenizer instead of tokenizer.json's Prepend normalizer, so the two
        # differ where a space follows a special token ("<s> [INST]" in the newer Mistral template)
        from tokenizers import Tokenizer
        raw = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
        for case in cases:
            if case["template"].startswith("mistral") and "rendered" in case:
                case["mistral_ids"] = tok(case["rendered"], add_special_tokens=False)["input_ids"]
                case["mistral_tokenizer_json_ids"] = raw.encode(case["rendered"], add_special_tokens=False).ids
    out = fresh_dir("chat-templates")
    write_json(os.path.join(out, "expected.json"), {
        "templates": {k: {"chat_template": v[0], "bos_token": v[1], "eos_token": v[2]} for k, v in templates.items()},
        "cases": cases})


def main() -> None:
    tiny_mistral()
    tiny_llama()
    tiny_phi()
    tiny_gemma()
    stories260k()
    tiny_llama2c_v1()
    chat_templates()


if __name__ == "__main__":
    main()
