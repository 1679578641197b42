"""Train the injection detector's model and calibration: ``make train-guardrails``.

Usage: ``python tools/train_injection.py [--train F] [--tune F] [--external F] [--authors F]
[--out F] [--seed N]``

1. Logistic regression on ``train.jsonl``, the ``train`` rows of the third-party
   ``external.jsonl`` (each counts ``--external-weight`` times: 667 rows, 205 attacks, most of
   them in-the-wild jailbreaks, and the shared prompts that look like them, among 34,524
   authors' rows when it was chosen; five times raised the third-party tune recall
   0.821 -> 0.854 and left leave-authors-out at 0.906 / 0.018) and the
   ``train`` rows of ``authors.jsonl`` (written by independent authors; each counts
   ``--authors-weight`` times, since they are the phrasings nearest to what the detector
   meets; ``--external ''`` / ``--authors ''`` leave a file out): features
   of canonical text (see ``llmops_guardrails.detectors.injection_model``), kept when they
   occur in at least ``--min-groups`` distinct template groups of the training split (the
   ``group`` field; a feature seen in one template only is that template's wording, not a
   sign of attack); AdaGrad, L2, classes weighted to balance, a fixed seed for the order. Pure
   Python (no numpy, no scikit-learn): floats computed in a fixed order give the same weights
   byte for byte on every run, which the test suite checks.
2. Calibration on ``tune.jsonl`` and the ``tune`` rows of ``authors.jsonl`` and
   ``external.jsonl``: a second logistic regression over the detector's signals (model logit
   when a rule matched, model logit when none did, strongest rule family, number of families,
   obfuscation, hidden text, discussion words, an attack phrase opening the text), i.e. Platt
   scaling extended to the rule signals. Its probability is the detector's score.
3. Threshold (see ``main``): the lowest score that flags at most 2% of the negatives of our
   tune split, and at most 2% of those of the authors' tune rows (``--budget both``, the
   default: each population of negatives we write keeps its own 2%; ``pooled`` counts the two
   together, which let the authors' harder negatives reach 2.9%).
4. The model-alone threshold: texts no rule matched may use at most half of that budget
   (1% of the tune negatives, of each population with ``--budget both``); the detector
   rescales their scores so this stricter threshold lands on the shipped one.

The holdout split, the ``holdout`` half of ``external.jsonl`` and the holdout and test
authors of ``authors.jsonl`` are never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "services" / "guardrails" / "corpus" / "injection"
OUT = ROOT / "services/guardrails/src/llmops_guardrails/detectors/injection_model.json"
TARGET_FPR = 0.02
#: Of the false-positive budget, what texts without any rule match may use.
ALONE_FPR = 0.01
#: The direction each calibration signal may push the score (see ``fit_calibration``).
SIGNS = {
    "model": 1,
    "model_alone": 1,
    "rules": 1,
    "families": 1,
    "obfuscated": 1,
    "hidden": 1,
    "discussion": -1,
    "quoted": -1,
    "strong": 1,
    "lead": 1,
    "lifted": 1,
}


def read(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL corpus file."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def train_weights(
    rows: list[dict[str, Any]], seed: int, epochs: int, l2: float, rate: float, min_groups: int
) -> tuple[float, dict[str, float]]:
    """(bias, weights) of the word-feature logistic regression."""
    from llmops_guardrails.detectors.canonical import canonicalise
    from llmops_guardrails.detectors.injection_model import features, model_words, words

    docs: list[tuple[list[str], float, int]] = []
    weights_of: list[float] = []
    df: dict[str, int] = {}
    groups: dict[str, set[str]] = {}
    for i, r in enumerate(rows):
        tokens = model_words(words(canonicalise(r["text"]).text))
        feats = sorted(set(features(tokens)))
        group = str(r.get("group", i))
        for f in feats:
            df[f] = df.get(f, 0) + 1
            groups.setdefault(f, set()).add(group)
        docs.append((feats, 1.0 / math.sqrt(1 + len(tokens)), int(r["label"])))
        weights_of.append(float(r.get("weight", 1.0)))
    vocab = {f for f, n in df.items() if n >= 2 and len(groups[f]) >= min_groups}
    docs = [([f for f in feats if f in vocab], scale, y) for feats, scale, y in docs]
    positives = sum(y for _, _, y in docs)
    class_weight = {1: len(docs) / (2 * positives), 0: len(docs) / (2 * (len(docs) - positives))}
    w: dict[str, float] = dict.fromkeys(sorted(vocab), 0.0)
    g2: dict[str, float] = dict.fromkeys(w, 1e-8)
    bias, bias_g2 = 0.0, 1e-8
    rng = random.Random(seed)
    order = list(range(len(docs)))
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            feats, scale, y = docs[i]
            z = bias + scale * math.fsum(w[f] for f in feats)
            grad = (_sigmoid(z) - y) * class_weight[y] * weights_of[i]
            bias_g2 += grad * grad
            bias -= rate * grad / math.sqrt(bias_g2)
            for f in feats:
                g = grad * scale + l2 * w[f]
                g2[f] += g * g
                w[f] -= rate * g / math.sqrt(g2[f])
    kept = {f: round(v, 4) for f, v in sorted(w.items()) if abs(v) >= 0.02}
    return round(bias, 4), kept


def fit_calibration(
    xs: list[list[float]],
    ys: list[int],
    names: tuple[str, ...],
    l2: float = 1.0,
    signs: dict[str, int] | None = None,
) -> dict[str, float]:
    """Logistic regression on a handful of signals by Newton's method (deterministic).

    ``l2`` penalises the coefficients, not the intercept. ``signs`` fixes the direction a
    signal may push (+1: more of it never lowers the score, -1: never raises it): a
    coefficient that comes out the wrong way is pinned at zero and the rest refitted, so the
    calibration cannot learn, say, that a stronger rule match makes an attack less likely
    because the tune split happens to contain few of them.
    """
    signs = signs or {}
    free = list(names)
    while True:
        fitted = _newton(xs, ys, names, free, l2)
        wrong = [n for n in free if signs.get(n, 0) * fitted[n] < 0]
        if not wrong:
            return {"intercept": round(fitted["intercept"], 6)} | {
                n: round(fitted[n], 6) for n in names
            }
        free = [n for n in free if n not in wrong]


def _newton(
    xs: list[list[float]], ys: list[int], names: tuple[str, ...], free: list[str], l2: float
) -> dict[str, float]:
    cols = [names.index(n) for n in free]
    k = len(cols) + 1
    beta = [0.0] * k
    rows = [[1.0, *(x[c] for c in cols)] for x in xs]
    penalty = [0.0] + [l2] * (k - 1)
    for _ in range(50):
        grad = [pen * b for pen, b in zip(penalty, beta, strict=True)]
        hess = [[(penalty[i] if i == j else 0.0) for j in range(k)] for i in range(k)]
        for x, y in zip(rows, ys, strict=True):
            p = _sigmoid(math.fsum(b * v for b, v in zip(beta, x, strict=True)))
            for i in range(k):
                grad[i] += (p - y) * x[i]
                for j in range(k):
                    hess[i][j] += p * (1 - p) * x[i] * x[j]
        step = _solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-10:
            break
    out = dict.fromkeys(names, 0.0)
    out.update(zip(free, beta[1:], strict=True))
    out["intercept"] = beta[0]
    return out


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a few unknowns)."""
    n = len(b)
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col and m[col][col] != 0:
                factor = m[r][col] / m[col][col]
                m[r] = [a - factor * c for a, c in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] if m[i][i] else 0.0 for i in range(n)]


def choose_threshold(scores: list[float], labels: list[int], target: float) -> float:
    """The lowest threshold flagging at most ``target`` of the negatives (midpoint)."""
    negatives = sorted((s for s, y in zip(scores, labels, strict=True) if not y), reverse=True)
    allowed = math.floor(target * len(negatives))
    if allowed >= len(negatives):
        return 0.0
    refused = negatives[allowed]  # the highest negative score that must stay below
    above = negatives[allowed - 1] if allowed > 0 else 1.0
    return round((refused + above) / 2, 6) if above > refused else round(refused + 1e-6, 6)


def _alone_threshold(
    scores: list[float],
    ys: list[int],
    sigs: list[dict[str, float]],
    budget: float,
    threshold: float,
) -> float:
    """The threshold at which texts no rule matched flag at most ``budget`` of all negatives."""
    alone = [(s, y) for s, y, sig in zip(scores, ys, sigs, strict=True) if sig["rules"] == 0]
    negatives = len(ys) - sum(ys)
    alone_negatives = sum(1 for _, y in alone if not y)
    if not alone_negatives:
        return threshold
    share = min(budget * negatives / alone_negatives, 1.0)
    return choose_threshold([s for s, _ in alone], [y for _, y in alone], share)


def main(argv: list[str] | None = None) -> None:
    """Train, calibrate, choose the threshold, write the model JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=CORPUS / "train.jsonl")
    parser.add_argument("--tune", type=Path, default=CORPUS / "tune.jsonl")
    parser.add_argument("--external", default=str(CORPUS / "external.jsonl"))
    parser.add_argument("--authors", default=str(CORPUS / "authors.jsonl"))
    parser.add_argument("--authors-weight", type=float, default=3.0)
    parser.add_argument("--external-weight", type=float, default=5.0)
    parser.add_argument("--budget", choices=("pooled", "both"), default="both")
    parser.add_argument("--alone-fpr", type=float, default=ALONE_FPR)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--l2", type=float, default=1e-2)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--min-groups", type=int, default=2)
    args = parser.parse_args(argv)

    from llmops_guardrails.detectors.injection import RULES_VERSION, SIGNALS, InjectionDetector
    from llmops_guardrails.detectors.injection_model import FEATURE_VERSION, from_dict

    l2, rate, min_groups = args.l2, args.rate, args.min_groups
    rows = read(args.train)
    hashes = {"train_sha256": sha256(args.train), "tune_sha256": sha256(args.tune)}
    if args.external:
        external = Path(args.external)
        rows += [
            r | {"weight": args.external_weight} for r in read(external) if r["split"] == "train"
        ]
        hashes["external_sha256"] = sha256(external)
    if args.authors:
        authors = Path(args.authors)
        rows += [
            r | {"weight": args.authors_weight} for r in read(authors) if r["split"] == "train"
        ]
        hashes["authors_sha256"] = sha256(authors)
    bias, weights = train_weights(rows, args.seed, args.epochs, l2, rate, min_groups)
    params = {
        "seed": args.seed,
        "epochs": args.epochs,
        "l2": l2,
        "rate": rate,
        "min_groups": min_groups,
        "authors_weight": args.authors_weight,
        "external_weight": args.external_weight,
        "budget": args.budget,
        "alone_fpr": args.alone_fpr,
        # The signals the calibration weighs and the rules behind them: a model trained for
        # other ones must not look like this one.
        "rules_version": RULES_VERSION,
        "signals": list(SIGNALS),
    }
    digest = hashlib.sha256(
        json.dumps([hashes, params, FEATURE_VERSION], sort_keys=True).encode()
    ).hexdigest()
    data: dict[str, Any] = {
        "version": f"m{FEATURE_VERSION}-{digest[:10]}",
        "feature_version": FEATURE_VERSION,
        "bias": bias,
        "weights": weights,
        "calibration": {"intercept": 0.0, "model": 1.0, "model_alone": 1.0},
        "threshold": 0.5,
        "alone_threshold": 0.5,
        "meta": {
            **hashes,
            **params,
            "features": len(weights),
            "target_fpr": TARGET_FPR,
        },
    }
    detector = InjectionDetector()
    detector._model = from_dict(data)  # uncalibrated weights, to compute the tune signals
    tune = read(args.tune)
    ours = len(tune)
    if args.authors:
        tune += [r for r in read(Path(args.authors)) if r["split"] == "tune"]
    own = len(tune)
    if args.external:
        tune += [r for r in read(Path(args.external)) if r["split"] == "tune"]
    sigs = [detector.signals(r["text"]) for r in tune]
    xs = [[sig[n] for n in SIGNALS] for sig in sigs]
    ys = [int(r["label"]) for r in tune]
    data["calibration"] = fit_calibration(xs, ys, SIGNALS, signs=SIGNS)
    cal = data["calibration"]
    scores = [
        _sigmoid(cal["intercept"] + math.fsum(cal[n] * v for n, v in zip(SIGNALS, x, strict=True)))
        for x in xs
    ]
    # The false-positive budget is counted on the project's tune rows: the third-party tune
    # rows calibrate the signals, but their shared prompts would spend the whole budget on
    # long role-play texts (measured: with them in the count the threshold rose 0.47 -> 0.56
    # for the same third-party holdout FPR under 2%, and recall fell).
    scores, ys, sigs = scores[:own], ys[:own], sigs[:own]
    if args.budget == "both":
        threshold = max(
            choose_threshold(scores[:ours], ys[:ours], TARGET_FPR),
            choose_threshold(scores[ours:], ys[ours:], TARGET_FPR),
        )
    else:
        threshold = choose_threshold(scores, ys, TARGET_FPR)
    # Texts without any rule match (``rules`` == 0): their negatives may take ALONE_FPR of the
    # tune negatives, no more; per population like the threshold (``--budget both``).
    populations = [(0, ours), (ours, own)] if args.budget == "both" else [(0, own)]
    strict = max(
        _alone_threshold(scores[a:b], ys[a:b], sigs[a:b], args.alone_fpr, threshold)
        for a, b in populations
    )
    data["threshold"] = threshold
    data["alone_threshold"] = max(threshold, strict)
    args.out.write_text(json.dumps(data, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    print(
        f"wrote {args.out}: {len(weights)} features, calibration {cal}, "
        f"threshold {data['threshold']}, alone_threshold {data['alone_threshold']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
