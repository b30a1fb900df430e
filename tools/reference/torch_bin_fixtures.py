"""Writes the PyTorch .bin fixtures that TorchCheckpointTest (weights-import) reads.

Run from the repository root (torch 2.x CPU, transformers, safetensors):

    /work/venv/ref/bin/python tools/reference/torch_bin_fixtures.py

Output goes to fixtures/torch-bin/ and is committed; Maven never runs Python. The output is
deterministic (fixed seeds, legacy storage keys renamed, sorted JSON), so re-running it gives the
same bytes for the same torch version.

Files:
  mixed.bin                 zip format: f32/f16/bf16/f64/i64/i32/i16/i8/u8/bool tensors, a scalar, an
                            empty tensor, tied weights (two names, one tensor), views with a storage
                            offset, a non-contiguous transpose, an nn.Parameter, non-tensor values
  mixed.expected.json       per tensor: dtype, shape, storage group, contiguity, exact values
                            (floats as float32, integers/bools as int64)
  mixed-protocol4.bin       the same state dict saved with pickle_protocol=4
  nested.bin                {"epoch": 3, "state_dict": {...}} training-checkpoint layout (+ .expected.json)
  legacy.bin                the pre-1.6 format (_use_new_zipfile_serialization=False) (+ .expected.json)
  sharded/                  pytorch_model.bin.index.json and two shards, as transformers 4.x wrote them
                            (+ sharded.expected.json)
  uint16.bin                a uint16 tensor (torch._utils._rebuild_tensor_v3 + UntypedStorage): unsupported dtype
  whole-module.pt           torch.save(nn.Linear): pickles a module class, must be refused
  malicious-os-system.bin   hand-made zip whose data.pkl calls os.system via GLOBAL + REDUCE
  malicious-eval.bin        hand-made zip, protocol 4, builtins.eval via STACK_GLOBAL
  malicious-legacy.bin      hand-made legacy-format file whose main pickle calls posix.system
  tiny-deberta/             a tiny DebertaV2Model: config.json, model.safetensors (save_pretrained) and
                            pytorch_model.bin = torch.save(model.state_dict()), which is exactly what
                            save_pretrained(safe_serialization=False) did in transformers 4.x (v5 removed
                            that option)

The malicious files are built from raw pickle bytes; nothing in them is ever unpickled here.
"""

import io
import json
import os
import pickle
import pickletools
import struct
import zipfile

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.normpath(os.path.join(ROOT, "fixtures", "torch-bin"))

SAFETENSORS_DTYPE = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}


def expected(state, path):
    """Per tensor: dtype, shape, storage group (names sharing a storage get the same number), values."""
    groups = {}
    out = {}
    for name, t in state.items():
        if not isinstance(t, torch.Tensor):
            continue
        ptr = t.untyped_storage().data_ptr()
        group = groups.setdefault(ptr, len(groups))
        if t.dtype.is_floating_point:
            values = [float(v) for v in t.detach().float().reshape(-1).tolist()]
        else:
            values = [int(v) for v in t.detach().to(torch.int64).reshape(-1).tolist()]
        out[name] = {
            "dtype": SAFETENSORS_DTYPE[t.dtype],
            "shape": list(t.shape),
            "storage_group": group,
            "contiguous": t.is_contiguous(),
            "values": values,
        }
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=False)
        f.write("\n")


def mixed_state():
    g = torch.Generator().manual_seed(1234)
    base = torch.randn(4, 3, generator=g)
    emb = torch.randn(5, 4, generator=g)
    state = {
        "f32": torch.randn(2, 3, generator=g),
        "f16": (torch.randn(3, 2, generator=g) * 10).to(torch.float16),
        "bf16": (torch.randn(2, 2, 2, generator=g) * 100).to(torch.bfloat16),
        "f64": torch.randn(3, generator=g, dtype=torch.float64),
        "i64": torch.tensor([[0, -1, 2**40], [7, -(2**62), 5]], dtype=torch.int64),
        "i32": torch.tensor([-2**31, 0, 2**31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 1, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        # tied weights: the very same tensor under two names (one storage)
        "embeddings.weight": emb,
        "lm_head.weight": emb,
        # views of one storage with offsets: a row, a row block, and the base itself
        "base": base,
        "base.row2": base[2],
        "base.rows1to2": base[1:3],
        # non-contiguous: a transpose of its own storage
        "transposed": torch.arange(6, dtype=torch.float32).reshape(2, 3).t(),
        "param": torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.25])),
        # non-tensor values a state dict may carry: skipped by the reader
        "step": 7,
        "note": "not a tensor",
    }
    return state


def write_zip_by_hand(path, data_pkl, prefix="archive"):
    """A torch-like zip (stored entries) around raw data.pkl bytes; the pickle is never loaded."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in ((f"{prefix}/data.pkl", data_pkl), (f"{prefix}/byteorder", b"little"),
                           (f"{prefix}/version", b"3\n")):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            z.writestr(info, data)


def legacy_save(state, path):
    """torch.save in the legacy format, made deterministic.

    torch names each storage by its memory address and writes the storages in the sorted order of
    those names, so both vary from run to run. Here the keys become 0, 1, ... in the order the state
    dict first uses them, and the raw storages are put in that order.
    """
    buf = io.BytesIO()
    torch.save(state, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    f = io.BytesIO(data)
    for _ in range(3):  # magic, protocol, sys_info: plain values
        pickle.load(f)
    for _ in pickletools.genops(f):  # the main pickle: walked, not loaded
        pass
    main_end = f.tell()
    old_keys = pickle.load(f)
    pos = f.tell()
    nbytes = {}
    renamed = {}
    for t in state.values():
        if isinstance(t, torch.Tensor):
            k = str(t.untyped_storage()._cdata)
            nbytes[k] = t.untyped_storage().nbytes()
            renamed.setdefault(k, str(len(renamed)))
    assert set(renamed) == set(old_keys), (renamed, old_keys)
    blobs = {}
    for k in old_keys:  # each storage: 8-byte element count, then its bytes
        blobs[k] = data[pos:pos + 8 + nbytes[k]]
        pos += 8 + nbytes[k]
    assert pos == len(data)
    head = data[:main_end]
    for k, new in renamed.items():
        old = b"X" + struct.pack("<I", len(k)) + k.encode()
        assert old in head
        head = head.replace(old, b"X" + struct.pack("<I", len(new)) + new.encode())
    order = sorted(renamed, key=lambda k: int(renamed[k]))
    with open(path, "wb") as out:
        out.write(head)
        out.write(pickle.dumps([renamed[k] for k in order], protocol=2))
        for k in order:
            out.write(blobs[k])


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)

    # --- mixed dtypes, tied weights, views, non-contiguous
    state = mixed_state()
    torch.save(state, os.path.join(OUT, "mixed.bin"))
    expected(state, os.path.join(OUT, "mixed.expected.json"))
    check = torch.load(os.path.join(OUT, "mixed.bin"), weights_only=True)
    assert torch.equal(check["transposed"], state["transposed"])
    # the same with pickle protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL)
    torch.save(state, os.path.join(OUT, "mixed-protocol4.bin"), pickle_protocol=4)

    # --- training-checkpoint layout
    g = torch.Generator().manual_seed(7)
    inner = {"layer.weight": torch.randn(2, 2, generator=g), "layer.bias": torch.randn(2, generator=g)}
    torch.save({"epoch": 3, "state_dict": inner, "optimizer": {"lr": 0.1}}, os.path.join(OUT, "nested.bin"))
    expected(inner, os.path.join(OUT, "nested.expected.json"))

    # --- legacy format
    g = torch.Generator().manual_seed(11)
    legacy = {
        "a": torch.randn(2, 3, generator=g),
        "b": torch.arange(4, dtype=torch.int64),
        "h": torch.randn(3, generator=g).to(torch.float16),
    }
    legacy["a.row1"] = legacy["a"][1]
    legacy["tied"] = legacy["b"]
    legacy_save(legacy, os.path.join(OUT, "legacy.bin"))
    back = torch.load(os.path.join(OUT, "legacy.bin"), weights_only=True)
    for k, v in legacy.items():
        assert torch.equal(back[k], v), k
    expected(legacy, os.path.join(OUT, "legacy.expected.json"))

    # --- sharded, as transformers 4.x save_pretrained(safe_serialization=False, max_shard_size=...) wrote it
    g = torch.Generator().manual_seed(3)
    full = {
        "encoder.layer.0.weight": torch.randn(3, 2, generator=g),
        "encoder.layer.0.bias": torch.randn(3, generator=g),
        "encoder.layer.1.weight": torch.randn(2, 3, generator=g).to(torch.float16),
        "pooler.dense.weight": torch.randn(2, 2, generator=g),
    }
    shard_dir = os.path.join(OUT, "sharded")
    os.makedirs(shard_dir, exist_ok=True)
    names = list(full)
    shards = {"pytorch_model-00001-of-00002.bin": names[:2], "pytorch_model-00002-of-00002.bin": names[2:]}
    weight_map = {}
    for shard, keys in shards.items():
        torch.save({k: full[k] for k in keys}, os.path.join(shard_dir, shard))
        weight_map.update({k: shard for k in keys})
    total = sum(t.numel() * t.element_size() for t in full.values())
    with open(os.path.join(shard_dir, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")
    expected(full, os.path.join(OUT, "sharded.expected.json"))

    # --- an unsupported dtype, as torch itself writes it
    torch.save({"ok": torch.ones(2), "u16": torch.tensor([1, 65535], dtype=torch.uint16)},
               os.path.join(OUT, "uint16.bin"))

    # --- a whole module (its class is a global the reader must refuse)
    torch.save(torch.nn.Linear(2, 2), os.path.join(OUT, "whole-module.pt"))

    # --- malicious pickles, raw bytes only
    # protocol 2: os.system('echo pwned') through GLOBAL + REDUCE
    evil = (b"\x80\x02" + b"cos\nsystem\n" + b"q\x00"
            + b"X\x0a\x00\x00\x00echo pwned" + b"\x85" + b"R" + b".")
    write_zip_by_hand(os.path.join(OUT, "malicious-os-system.bin"), evil)
    # protocol 4: a normal-looking dict entry, then builtins.eval via STACK_GLOBAL
    def short_str(text):  # SHORT_BINUNICODE + MEMOIZE
        raw = text.encode()
        return b"\x8c" + bytes([len(raw)]) + raw + b"\x94"

    body = (b"}\x94(" + short_str("a") + short_str("builtins") + short_str("eval") + b"\x93\x94"
            + short_str("1+1 and 'x'") + b"\x85\x94R\x94" + b"u.")
    evil4 = b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body
    write_zip_by_hand(os.path.join(OUT, "malicious-eval.bin"), evil4)
    # legacy format: magic, protocol, sys_info as torch writes them, then posix.system in the main pickle
    legacy_head = (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
                   + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                                   "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2))
    legacy_evil = b"\x80\x02}q\x00X\x01\x00\x00\x00xcposix\nsystem\nX\x02\x00\x00\x00id\x85Rs."
    with open(os.path.join(OUT, "malicious-legacy.bin"), "wb") as f:
        f.write(legacy_head + legacy_evil + pickle.dumps([], protocol=2))

    # --- a real HuggingFace model, tiny
    from transformers import DebertaV2Config, DebertaV2Model

    torch.manual_seed(42)
    config = DebertaV2Config(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, relative_attention=True, position_buckets=8, max_relative_positions=16,
        pos_att_type=["p2c", "c2p"], type_vocab_size=0,
    )
    model = DebertaV2Model(config).eval()
    deberta = os.path.join(OUT, "tiny-deberta")
    model.save_pretrained(deberta)
    torch.save(model.state_dict(), os.path.join(deberta, "pytorch_model.bin"))

    total = 0
    for dirpath, _dirs, files in os.walk(OUT):
        for name in files:
            total += os.path.getsize(os.path.join(dirpath, name))
    print(f"wrote {OUT}: {total} bytes")


if __name__ == "__main__":
    main()
