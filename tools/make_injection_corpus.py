"""Write the labelled prompt-injection corpus: ``services/guardrails/corpus/injection/*.jsonl``.

Usage: ``python tools/make_injection_corpus.py [--out DIR] [--split train|tune|holdout|all]``

Each line is ``{"text", "label" (1 attack, 0 benign), "family", "lang", "note"}``, plus
``group`` (the template or sentence the row was made from) in train and tune. ``family`` is
the attack family for attacks, and ``benign`` or ``hard_negative`` for the rest; ``note`` says
how the example was made (``plain``, ``obf:leet``, ``enc:base64``, ``doc``, ``hard:...``).

Two phrasing sources, never mixed (see ``corpus/injection/README.md``):

- ``injection_corpus_tuned.py`` -> ``train.jsonl`` and ``tune.jsonl``: split by phrasing group,
  so a tune example's base sentence never appears in train;
- ``injection_corpus_holdout.py`` -> ``holdout.jsonl``: written before the detector and never
  tuned on.

Fixed seeds: the same source files always give byte-identical output.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import injection_obfuscations as obf

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "services" / "guardrails" / "corpus" / "injection"
SEED = 20240612


def _row(text: str, label: int, family: str, lang: str, note: str, group: str) -> dict[str, Any]:
    return {"text": text, "label": label, "family": family, "lang": lang, "note": note, "_g": group}


def _carrier(src: ModuleType, name: str, lang: str, rng: random.Random) -> str:
    table: dict[str, list[str]] = getattr(src, name)
    return rng.choice(table.get(lang) or table["en"])


def examples(src: ModuleType, seed: int) -> list[dict[str, Any]]:
    """Every example made from one phrasing source, with a ``_g`` group key (its base text)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    inplace = sorted(obf.INPLACE)
    groups = getattr(src, "ATTACK_GROUPS", {})
    for lang, families in src.ATTACKS.items():
        for family, attacks in families.items():
            for i, attack in enumerate(attacks):
                # Texts filled from one template form one group; else each text is its own.
                g = groups[lang][family][i] if groups else f"{lang}/{family}/{i}"
                rows.append(_row(attack, 1, family, lang, "plain", g))
                kind = rng.choice(inplace)
                rows.append(_row(obf.INPLACE[kind](attack, rng), 1, family, lang, f"obf:{kind}", g))
                if rng.random() < 0.5:  # a second, different disguise on top of a first
                    k1, k2 = rng.sample(inplace, 2)
                    text = obf.INPLACE[k2](obf.INPLACE[k1](attack, rng), rng)
                    rows.append(_row(text, 1, family, lang, f"obf:{k1}+{k2}", g))
                enc = rng.choice(obf.ENCODINGS)
                payload = obf.encode(enc, attack, rng)
                if enc == "tags":  # visible harmless words, the attack hidden in tag characters
                    visible = rng.choice(src.BENIGN[lang]["benign"])
                    text = visible + payload
                else:
                    text = _carrier(src, "CARRIERS", lang, rng).format(p=payload)
                rows.append(_row(text, 1, family, lang, f"enc:{enc}", g))
                if family != "delimiter" or rng.random() < 0.5:
                    doc = _carrier(src, "DOCUMENTS", lang, rng)
                    rows.append(_row(doc.format(a=attack), 1, family, lang, "doc", g))
    benign_groups = getattr(src, "BENIGN_GROUPS", {})
    for lang, categories in src.BENIGN.items():
        for category, texts in categories.items():
            family = "benign" if category == "benign" else "hard_negative"
            for i, text in enumerate(texts):
                # Negatives filled from one template form one group too (when the source
                # says so): a tune negative's template is then never seen in training.
                g = benign_groups[lang][category][i] if benign_groups else f"{lang}/{category}/{i}"
                rows.append(_row(text, 0, family, lang, category, g))
                doc = _carrier(src, "BENIGN_DOCUMENTS", lang, rng)
                rows.append(_row(doc.format(x=text), 0, family, lang, f"{category}+doc", g))
                if rng.random() < 0.4:  # a disguise alone makes no attack
                    kind = rng.choice(["homoglyph", "mixed_case", "fullwidth", "zero_width"])
                    text2 = obf.INPLACE[kind](text, rng)
                    rows.append(_row(text2, 0, family, lang, f"{category}+obf:{kind}", g))
                if rng.random() < 0.25:
                    enc = rng.choice(["base64", "hex", "url", "rot13", "reversed"])
                    payload = obf.encode(enc, text, rng)
                    carrier = _carrier(src, "BENIGN_CARRIERS", lang, rng)
                    rows.append(
                        _row(carrier.format(p=payload), 0, family, lang, f"{category}+enc:{enc}", g)
                    )
    return rows


def split_by_group(
    rows: list[dict[str, Any]], tune_share: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, tune): whole groups go to one side, so a base sentence is never on both."""
    groups = sorted({r["_g"] for r in rows})
    rng = random.Random(seed)
    tune_groups = {g for g in groups if rng.random() < tune_share}
    train = [r for r in rows if r["_g"] not in tune_groups]
    tune = [r for r in rows if r["_g"] in tune_groups]
    return train, tune


def write(path: Path, rows: list[dict[str, Any]], group: bool = False) -> None:
    """One JSON object a line, UTF-8, ``\\n`` line ends; the group key as ``group`` if asked.

    Train and tune carry their ``group`` (training counts in how many groups a feature
    occurs); the holdout is written as it always was, without it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for r in rows:
        clean = {k: v for k, v in r.items() if k != "_g"}
        if group:
            clean["group"] = r["_g"]
        lines.append(json.dumps(clean, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Generate the requested split(s)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--split", choices=["train", "tune", "holdout", "all"], default="all")
    args = parser.parse_args(argv)
    if args.split in {"holdout", "all"}:
        import injection_corpus_holdout as holdout

        rows = examples(holdout, SEED + 1)
        write(args.out / "holdout.jsonl", rows)
        print(f"holdout: {len(rows)} examples")
    if args.split in {"train", "tune", "all"}:
        import injection_corpus_tuned as tuned

        train, tune = split_by_group(examples(tuned, SEED), 0.3, SEED + 2)
        if args.split in {"train", "all"}:
            write(args.out / "train.jsonl", train, group=True)
            print(f"train: {len(train)} examples")
        if args.split in {"tune", "all"}:
            write(args.out / "tune.jsonl", tune, group=True)
            print(f"tune: {len(tune)} examples")


if __name__ == "__main__":
    main()
