#!/usr/bin/env python3
"""Regenerates every committed fixture under fixtures/ (deterministic; CPU).

Setup once (this machine serves the packages from its local mirror):
    python3 -m venv /work/venv/ref
    /work/venv/ref/bin/pip install -r tools/reference/requirements.txt
Run from anywhere:
    /work/venv/ref/bin/python tools/reference/generate.py            # all
    /work/venv/ref/bin/python tools/reference/generate.py foundation # one generator

Maven and CI never run this: they read the committed outputs.
"""
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

GENERATORS = [
    "foundation_fixtures",
    "torch_bin_fixtures",
    "tokenizers_fixtures",
    # slow_spm_fixtures needs transformers 4.57 (slow tokenizers) in a side venv: see that script
    "decoders_fixtures",
    "encoders_fixtures",
    "bert_fixtures",
    "e2e_fixtures",  # after tokenizers_fixtures: copies its tiny tokenizers
]


def main(argv):
    wanted = argv[1:]
    for name in GENERATORS:
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        print(f"== {name}", flush=True)
        importlib.import_module(name).main()


if __name__ == "__main__":
    main(sys.argv)
