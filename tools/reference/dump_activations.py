#!/usr/bin/env python3
"""Reference activations of a HF model folder: the output of every module a pattern names, after one forward pass.

    python tools/reference/dump_activations.py --model DIR [--adapter ADAPTER_DIR] --input inputs.json \
        --capture PATTERN[,PATTERN...] --output ref.json
    python tools/reference/dump_activations.py --model DIR [--adapter ADAPTER_DIR] --list

The JVM's capture side answers to the same module names, reads the same patterns and writes the same file, so
the two files compare key by key (docs/numerics-kit.md).

Loading (as the JVM's Models.load does, by config.json's model_type, architectures if it has none):
  phi, mistral, llama, gemma   AutoModelForCausalLM, float32, eager attention  -> main output "logits"
  bert, deberta-v2             AutoModel, float32, eager attention             -> main output "last_hidden_state"
  t5                           T5EncoderModel, float32, eager attention        -> main output "last_hidden_state"
  a sentence-transformers folder (modules.json): its Transformer module (the folder itself or the subfolder
  modules.json names), loaded as above; Pooling/Dense/Normalize are not part of the dump.
Weights stored in bf16/fp16 are upcast to float32 on load. --adapter loads a PEFT adapter onto the causal LM
with peft.PeftModel.from_pretrained; names are reported without PEFT's "base_model.model." prefix, PEFT's own
inner modules (base_layer, lora_A, lora_B, lora_dropout, lora_embedding_A/B, lora_magnitude_vector, and
original_module/modules_to_save of a modules_to_save wrapper) are not capturable, and a wrapped layer answers to
its original name (its output includes the LoRA delta).

Names: named_modules() of the loaded model, the root ("") excluded; `--list` prints them, one a line.
Patterns (the JVM implements the same): comma-separated globs, each matched against the whole dotted name;
  **  any run of characters, dots included (also none)
  *   any run of characters other than "." (also none)
  ?   exactly one character other than "."
  anything else is literal (no character classes, no escapes); stars are read left to right, two at a time, so
  "***" is "**" followed by "*". Spaces around a pattern are dropped and empty patterns ignored. A pattern that
  matches no name is an error (exit 2) listing up to 5 close names (difflib.get_close_matches).
Output: the project's tensor JSON, {"name": {"shape": [...], "dtype": "float32", "data": [...]}}, one tensor a
line, keys in execution order (the order the modules' forward passes finish: a layer's parts before the layer,
the last layer before the final norm), then the model's main output; so the first failing key is where the numbers
first leave the reference. A module's
output that is a tuple/list/ModelOutput is written as its first tensor (depth first); a module whose output holds
no tensor, or that the pass never calls (e.g. a ModuleList), is skipped with a note on stderr. A module called k > 1
times in the pass writes its first call under its name and the later ones as "name#2" ... "name#k", each where it
finished (noted on stderr). Floats are float32, written as the shortest decimal that reads back to the same float32.
CPU, torch.no_grad, eval mode, one thread unless --threads says otherwise. Input errors exit 2 and write nothing;
the output file is replaced atomically.
"""
import argparse
import difflib
import json
import os
import re
import sys
import tempfile
from collections import OrderedDict

import numpy as np

PEFT_PREFIX = "base_model.model."
PEFT_INNER = {"base_layer", "lora_A", "lora_B", "lora_dropout", "lora_embedding_A", "lora_embedding_B",
              "lora_magnitude_vector", "original_module", "modules_to_save"}
CAUSAL = {"phi", "mistral", "llama", "gemma"}
ENCODERS = {"bert", "deberta-v2", "t5"}


class InputError(Exception):
    """Bad input named in the message: exit 2, nothing written."""


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- patterns

def glob_regex(pattern: str) -> "re.Pattern":
    """The regex of one glob: ** -> .*, * -> [^.]*, ? -> [^.], everything else literal; whole name."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^.]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^.]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def select(names, capture: str):
    """The names (in the given order) matched by any of the comma-separated patterns; InputError if a pattern
    matches none."""
    patterns = [p.strip() for p in capture.split(",")]  # as the JVM's forward --capture: spaces around a pattern
    chosen = set()                                       # are dropped, empty patterns ignored
    for p in patterns:
        if not p:
            continue
        rx = glob_regex(p)
        hits = [n for n in names if rx.fullmatch(n)]
        if not hits:
            close = difflib.get_close_matches(p, names, n=5)
            raise InputError(f"--capture pattern '{p}' matches no module"
                             + (f"; close names: {', '.join(close)}" if close else "")
                             + " (--list prints them all)")
        chosen.update(hits)
    return [n for n in names if n in chosen]


# ---------------------------------------------------------------------------------------------- loading

def _read_json(path: str, what: str):
    if not os.path.isfile(path):
        raise InputError(f"{what}: no file {path}")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path} is not valid JSON: {e}") from None


def transformer_dir(model_dir: str) -> str:
    """The folder holding the HF model: the folder itself, or a sentence-transformers folder's Transformer module."""
    if not os.path.isdir(model_dir):
        raise InputError(f"--model: no folder {model_dir}")
    modules = os.path.join(model_dir, "modules.json")
    if not os.path.isfile(modules):
        return model_dir
    entries = _read_json(modules, "--model")
    for e in entries if isinstance(entries, list) else []:
        if isinstance(e, dict) and str(e.get("type", "")).endswith("models.Transformer"):
            sub = os.path.normpath(os.path.join(model_dir, e.get("path") or ""))
            if not os.path.isdir(sub):
                raise InputError(f"{modules}: the Transformer module's folder {sub} does not exist")
            return sub
    raise InputError(f"{modules} lists no sentence_transformers.models.Transformer module")


def model_type(folder: str) -> str:
    config = _read_json(os.path.join(folder, "config.json"), "--model")
    mt = config.get("model_type")
    if not mt:
        arch = " ".join(config.get("architectures") or []).lower()
        for t, key in (("deberta-v2", "debertav2"), ("bert", "bert"), ("t5", "t5"), ("phi", "phi"),
                       ("mistral", "mistral"), ("llama", "llama"), ("gemma", "gemma")):
            if key in arch.replace("-", ""):
                mt = t
                break
    if mt not in CAUSAL | ENCODERS:
        raise InputError(f"{folder}/config.json: model_type '{mt}' is not supported "
                         f"(supported: {', '.join(sorted(CAUSAL | ENCODERS))})")
    return mt


def load_model(model_dir: str, adapter: str = None):
    """(model, kind, names): the loaded float32 eval model, "causal" or "encoder", and its capturable names
    (in named_modules order) mapped to their modules."""
    import torch
    from transformers import AutoModel, AutoModelForCausalLM, T5EncoderModel

    folder = transformer_dir(model_dir)
    mt = model_type(folder)
    kwargs = dict(dtype=torch.float32, attn_implementation="eager")
    cls, kind = ((AutoModelForCausalLM, "causal") if mt in CAUSAL else
                 (T5EncoderModel, "encoder") if mt == "t5" else (AutoModel, "encoder"))
    try:
        model = cls.from_pretrained(folder, **kwargs)
    except (OSError, ValueError) as e:  # no weights file, a bad config, ...
        raise InputError(f"{folder}: {e}") from None
    if adapter is not None:
        if not os.path.isdir(adapter):
            raise InputError(f"--adapter: no folder {adapter}")
        if not os.path.isfile(os.path.join(adapter, "adapter_config.json")):
            raise InputError(f"--adapter: no file {os.path.join(adapter, 'adapter_config.json')}")
        if kind != "causal":
            raise InputError(f"--adapter applies to a causal LM (phi, mistral, llama, gemma); {folder} is '{mt}'")
        from peft import PeftModel
        try:
            model = PeftModel.from_pretrained(model, adapter)
        except (OSError, ValueError, KeyError) as e:
            raise InputError(f"{adapter}: {e}") from None
    model.eval()
    return model, kind, capturable(model, adapter is not None)


def capturable(model, peft: bool) -> "OrderedDict[str, object]":
    names = OrderedDict()
    for name, module in model.named_modules():
        if peft:
            if not name.startswith(PEFT_PREFIX):
                continue  # the PeftModel, its LoraModel, and the wrapped model itself (the root)
            name = name[len(PEFT_PREFIX):]
            if PEFT_INNER.intersection(name.split(".")):
                continue
        if name:
            names[name] = module
    return names


# ---------------------------------------------------------------------------------------------- inputs

def _int_rows(value, key: str, path: str):
    rows = value.get("data") if isinstance(value, dict) else value
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path}: \"{key}\" must be a non-empty [batch, length] list of lists")
    width = None
    for b, row in enumerate(rows):
        if not isinstance(row, list):
            raise InputError(f"{path}: \"{key}\" row {b} is not a list (expected [batch, length])")
        if width is not None and len(row) != width:
            raise InputError(f"{path}: \"{key}\" rows have different lengths ({width} and {len(row)}): "
                             "pad them and give an attention_mask")
        width = len(row)
        for i, v in enumerate(row):
            if isinstance(v, bool):
                row[i] = int(v)
            elif not isinstance(v, int) or not -2 ** 63 <= v < 2 ** 63:
                raise InputError(f"{path}: \"{key}\"[{b}][{i}] is not an integer token id: {v!r}"[:200])
    return rows


def read_inputs(path: str, mt: str) -> dict:
    """input_ids, attention_mask (all ones if absent), token_type_ids (BERT only) as int64 tensors."""
    import torch
    d = _read_json(path, "--input")
    if not isinstance(d, dict) or d.get("input_ids") is None:
        raise InputError(f"{path}: no \"input_ids\"")
    out = {"input_ids": torch.tensor(_int_rows(d["input_ids"], "input_ids", path), dtype=torch.long)}
    keys = ["attention_mask"] + (["token_type_ids"] if mt == "bert" else [])
    for k in keys:
        if d.get(k) is not None:
            t = torch.tensor(_int_rows(d[k], k, path), dtype=torch.long)
            if t.shape != out["input_ids"].shape:
                raise InputError(f"{path}: \"{k}\" is {list(t.shape)}, input_ids {list(out['input_ids'].shape)}")
            out[k] = t
    if "attention_mask" not in out:
        out["attention_mask"] = torch.ones_like(out["input_ids"])
    if mt != "bert" and d.get("token_type_ids") is not None:
        note(f"{path}: token_type_ids ignored (read for BERT only, as the JVM does)")
    return out


# ---------------------------------------------------------------------------------------------- capture

def first_tensor(out):
    """The module output's first tensor, depth first through tuples, lists, dicts and ModelOutputs; or None."""
    import torch
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict):  # ModelOutput is an OrderedDict of its non-None fields
        out = list(out.values())
    if isinstance(out, (tuple, list)):
        for o in out:
            t = first_tensor(o)
            if t is not None:
                return t
    return None


def dump(model_dir: str, input_path: str, capture: str, adapter: str = None) -> "OrderedDict[str, object]":
    """The captured float32 tensors (torch, CPU) in file order, the main output last."""
    import torch
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True, warn_only=True)
    folder = transformer_dir(model_dir)
    mt = model_type(folder)
    inputs = read_inputs(input_path, mt)
    note(f"loading {folder} ({mt})" + (f" with adapter {adapter}" if adapter else ""))
    model, kind, names = load_model(model_dir, adapter)
    chosen = select(list(names), capture)
    main_key = "logits" if kind == "causal" else "last_hidden_state"
    if main_key in names:
        raise InputError(f"a module is named '{main_key}', the key of the model's main output")
    vocab = model.get_input_embeddings().num_embeddings
    ids = inputs["input_ids"]
    bad = ((ids < 0) | (ids >= vocab)).nonzero()
    if len(bad):
        b, i = bad[0].tolist()
        raise InputError(f"{input_path}: \"input_ids\"[{b}][{i}] = {int(ids[b, i])} is not a token id of this model "
                         f"(vocabulary size {vocab})")
    calls = {n: [] for n in chosen}
    fired = []  # (name, call number) in the order the hooks fire
    skipped = {}
    handles = []
    for n in chosen:
        def hook(_module, _args, output, n=n):
            t = first_tensor(output)
            if t is None:
                skipped[n] = type(output).__name__
                return None
            t = t.detach()
            calls[n].append(t.float().clone() if t.is_floating_point() else t.clone())
            fired.append((n, len(calls[n])))
            return None
        handles.append(names[n].register_forward_hook(hook))
    note(f"forward pass on {input_path}: input_ids {list(ids.shape)}, {len(chosen)} modules hooked")
    kwargs = dict(inputs)
    if kind == "causal":
        kwargs["use_cache"] = False
    try:
        with torch.no_grad():
            result = model(**kwargs)
    except (IndexError, RuntimeError, ValueError) as e:  # e.g. a sequence longer than the position table
        raise InputError(f"the forward pass on {input_path} failed: {e}") from None
    finally:
        for h in handles:
            h.remove()
    main = (result.logits if kind == "causal" else result.last_hidden_state).detach().float()
    out = OrderedDict()
    never = [n for n in chosen if not calls[n]]
    for n in chosen:
        if n in skipped:
            note(f"{n}: output is a {skipped[n]} without a tensor, skipped")
        if len(calls[n]) > 1:
            note(f"{n}: called {len(calls[n])} times, written as {n}, "
                 + ", ".join(f"{n}#{k}" for k in range(2, len(calls[n]) + 1)))
    never = [n for n in never if n not in skipped]
    for n, k in fired:
        out[n if k == 1 else f"{n}#{k}"] = calls[n][k - 1]
    if never:
        note(f"never called in this pass (nothing written): {', '.join(never)}")
    out[main_key] = main
    return out


# ---------------------------------------------------------------------------------------------- writing

def _f32(x) -> str:
    if np.isnan(x):
        return '"NaN"'
    if np.isinf(x):
        return '"Infinity"' if x > 0 else '"-Infinity"'
    return str(x)  # numpy's shortest repr that reads back to the same float32


def tensor_text(t) -> str:
    """One tensor as compact tensor JSON text."""
    a = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
    if a.dtype.kind == "f":
        a = a.astype(np.float32)
        flat = [_f32(x) for x in a.ravel()]
        dtype = "float32"
    elif a.dtype.kind == "b":
        flat = ["true" if x else "false" for x in a.ravel().tolist()]
        dtype = "bool"
    else:
        flat = [str(int(x)) for x in a.ravel().tolist()]
        dtype = "int64"
    shape = list(a.shape)
    if 0 in shape:
        data = _empty(shape)
    elif not shape:
        data = flat[0]
    else:
        parts = flat
        for size in reversed(shape[1:]):
            parts = ["[" + ",".join(parts[i:i + size]) + "]" for i in range(0, len(parts), size)]
        data = "[" + ",".join(parts) + "]"
    return '{"shape":' + json.dumps(shape, separators=(",", ":")) + ',"dtype":"' + dtype + '","data":' + data + "}"


def _empty(shape) -> str:
    """Nested lists of an empty tensor's shape (the dimensions after the first 0 vanish)."""
    if not shape or shape[0] == 0:
        return "[]"
    return "[" + ",".join([_empty(shape[1:])] * shape[0]) + "]"


def write_tensors(path: str, tensors) -> None:
    """{"name": tensor, ...} one tensor a line, written to a temporary file beside `path` and renamed onto it."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(f"--output: no folder {directory}")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 -> what a plain open() would give
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("{")
            for i, (name, t) in enumerate(tensors.items()):
                f.write(("," if i else "") + "\n" + json.dumps(name) + ":" + tensor_text(t))
            f.write("\n}\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ---------------------------------------------------------------------------------------------- CLI

def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="dump_activations.py",
        description="Write the outputs of the modules PATTERN names (HF named_modules names) after one forward "
                    "pass, in the tensor JSON format, for comparison with the JVM's capture.")
    p.add_argument("--model", required=True, help="HF model folder or sentence-transformers folder")
    p.add_argument("--adapter", help="PEFT LoRA adapter folder (causal LMs)")
    p.add_argument("--input", help="inputs.json: input_ids, optional attention_mask, token_type_ids (BERT)")
    p.add_argument("--capture", help="comma-separated globs on module names: * ? within a name part, ** across dots")
    p.add_argument("--output", help="tensor JSON file to write")
    p.add_argument("--list", action="store_true", help="print every capturable module name and exit")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the same sums every run)")
    args = p.parse_args(argv)
    if not args.list:
        missing = [o for o in ("input", "capture", "output") if getattr(args, o) is None]
        if missing:
            p.error("the following arguments are required without --list: "
                    + ", ".join("--" + m for m in missing))
    import torch
    torch.set_num_threads(max(1, args.threads))
    try:
        if args.list:
            _, _, names = load_model(args.model, args.adapter)
            sys.stdout.write("".join(n + "\n" for n in names))
            return 0
        if not os.path.isfile(args.input):
            raise InputError(f"--input: no file {args.input}")
        out_dir = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(out_dir):
            raise InputError(f"--output: no folder {out_dir}")
        tensors = dump(args.model, args.input, args.capture, args.adapter)
        write_tensors(args.output, tensors)
        note(f"wrote {len(tensors)} tensors to {args.output} ({os.path.getsize(args.output)} bytes)")
        return 0
    except InputError as e:
        print(f"dump_activations.py: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
