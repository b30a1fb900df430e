#!/usr/bin/env python3
"""Reference outputs of the seed's `fix_prompt` (the cleaning of Gemma's rewritten_text) for the Java
`RewriteCleaner` (recovery module). Plain Python 3 standard library: `re`, `csv`, `hashlib`, `json`.

fix_prompt, as the seed states it:
  1. if any REFUSALS pattern is found (re.search, re.IGNORECASE) the text becomes "";
  2. otherwise, for each LEAD_INS pattern in order (each on the result of the previous one), if it is found
     (re.IGNORECASE) the text becomes what follows the first match;
  3. finally a text starting with "**\\n\\n" or "user" loses its first 4 characters and is str.strip()ped.

Writes into fixtures/rewrite-cleaning/:
  - edge-cases.json: hand-written strings (below) with Python's output and the rules that touched each, plus
    Python's whitespace set (str.isspace over all code points, what str.strip() removes). Always tested.
  - gemma-rewrites-expected.json: for the real ../shared/data/gemma_rewrites.csv (NOT copied into the repo),
    the per-rule counts and SHA-256 digests of the input and the cleaned rewritten_text column. Only counts and
    digests are committed; the Java test that checks them skips when ../shared is absent.

Digest of a column: SHA-256 over, for each row in file order, the UTF-8 byte length of the value as an 8-byte
big-endian integer followed by those bytes.

Rerun (from the repository root): python3 tools/reference/fix_prompt_reference.py [path/to/gemma_rewrites.csv]
"""
import csv
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(REPO, "fixtures", "rewrite-cleaning")
SHARED_CSV = os.path.join(REPO, "..", "shared", "data", "gemma_rewrites.csv")

REFUSALS = [
    r"therefore.*I cannot",
    r"does not contain any",
    r"am unable to provide",
    r"am unable to rewrite",
    r"do not have the capacity to write",
    r"am unable to engage",
    r"I am unable to",
    r"not provide information",
]
LEAD_INS = [
    r"Sure, here.*?:",
    r"Sure. here.*?:",
    r"Certainly, here.*?:",
    r"here.*? text*?:",
    r"Summary of .*?\n\n",
    r"Analysis of .*?\n\n",
]
PREFIXES = ["**\n\n", "user"]


def rule_names():
    return ([{"kind": "refusal", "pattern": p} for p in REFUSALS]
            + [{"kind": "lead-in", "pattern": p} for p in LEAD_INS]
            + [{"kind": "prefix", "pattern": "**\\n\\n|user (cut 4 characters, strip)"}])


def fix_prompt_traced(text):
    """fix_prompt(text) and the indexes (into rule_names()) of the rules that changed it."""
    for i, p in enumerate(REFUSALS):
        if re.search(p, text, re.IGNORECASE):
            return "", [i]  # the first refusal found empties the text; later ones see nothing
    touched = []
    for j, p in enumerate(LEAD_INS):
        m = re.search(p, text, re.IGNORECASE)
        if m:
            text = text[m.end():]
            touched.append(len(REFUSALS) + j)
    if text.startswith("**\n\n") or text.startswith("user"):
        text = text[4:].strip()
        touched.append(len(REFUSALS) + len(LEAD_INS))
    return text, touched


def fix_prompt(text):
    return fix_prompt_traced(text)[0]


def column_digest(values):
    h = hashlib.sha256()
    for v in values:
        b = v.encode("utf-8")
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


# Hand-written edge cases: each rule, the order of the lead-ins, Python's `.` (only \n excluded), Unicode
# case-insensitivity, Python's str.strip() whitespace set, and surrogate pairs.
EDGE_CASES = [
    "",
    "A plain rewrite with nothing to clean.",
    # refusals
    "Therefore, I cannot rewrite this text.",
    "THEREFORE, sadly, i CANNOT do it",
    "therefore\nI cannot",                       # `.` does not cross \n: kept
    "therefore\rI cannot",                       # Python's `.` matches \r (Java's does not without UNIX_LINES)
    "therefore\u0085I cannot",                   # NEL: Python's `.` matches it
    "therefore\u2028I cannot",                   # LINE SEPARATOR: Python's `.` matches it
    "therefore\u2029I cannot",
    "therefore\r\nI cannot",
    "The text does not contain any harmful content.",
    "I am unable to provide a rewrite.",
    "Sorry, I am unable to rewrite this.",
    "I do not have the capacity to write that.",
    "I am unable to engage in that.",
    "Regrettably I am unable to comply",
    "I will not provide information about that.",
    "\u0130 am unable to",                       # LATIN CAPITAL I WITH DOT ABOVE: lower() is i
    "\u0131 am unable to",                       # DOTLESS i: Python's equivalence i ~ ı
    "I am unab\u0142e to",                       # ł is not l
    "Doe\u017f not contain any",                  # LONG S: Python's equivalence s ~ ſ
    "does not contain\u00a0any",                 # NBSP is not a space in the pattern
    # lead-ins
    "Sure, here is the rewritten text:\n\nThe cat sat.",
    "sure, HERE you go: Text",
    "Sure! here is the text: Text",              # 'Sure. here' -- '.' matches '!'
    "Sure. Here is the rewrite: body",
    "Certainly, here's a poem:\nRoses",
    "Here is the rewritten text: body",
    "Here is your text:body",
    "here is the texttt: body",                  # text*? : t repeated
    "here is the tex: body",                     # text*? : zero t
    "here\nis the text: body",                   # `.` stops at \n: rule 4 not found
    "here\ris the text: body",                   # \r is crossed
    "Summary of the meeting\n\nWe met.",
    "Summary of the meeting\r\n\r\nWe met.",     # no \n\n: kept
    "Analysis of the poem\n\nIt rhymes.",
    "analysis OF x\n\n\n\ny",
    "Sure, here it is: Summary of a\n\nB",      # two lead-ins in sequence
    "Sure, here: here is the text: X",           # lead-in 1 then lead-in 4 on what is left
    "Sure, here: Sure, here: twice",             # each pattern is applied once
    "Here is the text: Sure, here: late",        # order: Sure first (matches the later 'Sure, here:')
    "\u017fure, here: long s",                   # ſure
    "Sure, here is the text:**\n\nHello  ",      # lead-in then the prefix rule
    "Certainly, here is:\n\n**\n\nText",         # after the lead-in the text starts with \n\n: no prefix rule
    # prefix rule
    "**\n\nHello world  ",
    "**\n\n\u00a0Hello\u00a0",
    "**\n\n\x1c\x1d\x1e\x1fHello\x0b\x0c",
    "**\n\n\u0085Hello\u2028\u2029",
    "**\n\n\u1680\u2000\u200a\u202f\u205f\u3000Hello\t",
    "**\n\n\u200bHello\u200b",                   # ZERO WIDTH SPACE is not whitespace in Python
    "**\n\n\ufeffHello",                          # BOM is not whitespace
    "**\n\n\u180eHello",                          # MONGOLIAN VOWEL SEPARATOR: not whitespace since Unicode 6.3
    "user\nHello",
    "userHello",
    "username is bob",
    "User\nHello",                               # startswith is case-sensitive
    "**Hello**\n\nWorld",
    " **\n\nHello",                              # leading space: no prefix rule
    "user\U0001F600 hi ",                        # supplementary character after the prefix
    "**\n\n",
    "user",
    "Sure, here is the rewritten text:\U0001F600\n\nDone \U0001F600",
]


def python_whitespace():
    return [cp for cp in range(0x110000) if chr(cp).isspace()]


def main():
    os.makedirs(OUT, exist_ok=True)
    names = rule_names()
    cases = []
    for s in EDGE_CASES:
        out, touched = fix_prompt_traced(s)
        cases.append({"input": s, "output": out, "rules": touched})
    with open(os.path.join(OUT, "edge-cases.json"), "w", encoding="utf-8") as f:
        json.dump({"python": sys.version.split()[0], "rules": names, "cases": cases,
                   "whitespace": python_whitespace()}, f, ensure_ascii=True, indent=1)
        f.write("\n")

    path = sys.argv[1] if len(sys.argv) > 1 else SHARED_CSV
    if not os.path.isfile(path):
        print(f"{path} absent: gemma-rewrites-expected.json not regenerated")
        return
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    counts = [0] * len(names)
    cleaned = []
    changed = emptied = 0
    for r in rows:
        text = r["rewritten_text"]
        out, touched = fix_prompt_traced(text)
        for i in touched:
            counts[i] += 1
        changed += out != text
        emptied += out == "" and text != ""
        cleaned.append(out)
    expected = {
        "file": "gemma_rewrites.csv",
        "python": sys.version.split()[0],
        "rows": len(rows),
        "input_sha256": column_digest([r["rewritten_text"] for r in rows]),
        "cleaned_sha256": column_digest(cleaned),
        "rows_changed": changed,
        "rows_emptied": emptied,
        "rules": [dict(n, rows=c) for n, c in zip(names, counts)],
    }
    with open(os.path.join(OUT, "gemma-rewrites-expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=True, indent=1)
        f.write("\n")
    for n, c in zip(names, counts):
        print(f"{c:5d}  {n['kind']:8s} {n['pattern']!r}")
    print(f"rows {len(rows)}, changed {changed}, emptied {emptied}, cleaned sha256 {expected['cleaned_sha256']}")


if __name__ == "__main__":
    main()
