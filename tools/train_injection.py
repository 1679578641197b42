"""Train the injection detector's model and calibration: ``make train-guardrails``.

Usage: ``python tools/train_injection.py [--train F] [--tune F] [--out F] [--seed N]``

1. Logistic regression on ``train.jsonl``: features of canonical text (see
   ``llmops_guardrails.detectors.injection_model``), kept when they occur in at least two
   training texts; AdaGrad, L2, classes weighted to balance, a fixed seed for the order.
   Pure Python (no numpy, no scikit-learn): floats computed in a fixed order give the same
   weights byte for byte on every run, which the test suite checks.
2. Calibration on ``tune.jsonl``: a second logistic regression over the detector's signals
   (model logit, strongest rule family, number of families, obfuscation, hidden text,
   discussion words), i.e. Platt scaling extended to the rule signals. Its probability is
   the detector's score.
3. Threshold on ``tune.jsonl``: the lowest score that flags at most 2% of the tune
   negatives (the midpoint between the last allowed and the first refused negative score).

The holdout split is never read here.
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
    rows: list[dict[str, Any]], seed: int, epochs: int, l2: float, rate: float
) -> tuple[float, dict[str, float]]:
    """(bias, weights) of the word-feature logistic regression."""
    from llmops_guardrails.detectors.canonical import canonicalise
    from llmops_guardrails.detectors.injection_model import features, words

    docs: list[tuple[list[str], float, int]] = []
    df: dict[str, int] = {}
    for r in rows:
        tokens = words(canonicalise(r["text"]).text)
        feats = sorted(set(features(tokens)))
        for f in feats:
            df[f] = df.get(f, 0) + 1
        docs.append((feats, 1.0 / math.sqrt(1 + len(tokens)), int(r["label"])))
    vocab = {f for f, n in df.items() if n >= 2}
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
            grad = (_sigmoid(z) - y) * class_weight[y]
            bias_g2 += grad * grad
            bias -= rate * grad / math.sqrt(bias_g2)
            for f in feats:
                g = grad * scale + l2 * w[f]
                g2[f] += g * g
                w[f] -= rate * g / math.sqrt(g2[f])
    kept = {f: round(v, 4) for f, v in sorted(w.items()) if abs(v) >= 0.02}
    return round(bias, 4), kept


def fit_calibration(
    xs: list[list[float]], ys: list[int], names: tuple[str, ...], l2: float = 0.01
) -> dict[str, float]:
    """Logistic regression on a handful of signals by Newton's method (deterministic)."""
    k = len(names) + 1
    beta = [0.0] * k
    rows = [[1.0, *x] for x in xs]
    for _ in range(50):
        grad = [l2 * b for b in beta]
        hess = [[(l2 if i == j else 0.0) for j in range(k)] for i in range(k)]
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
    return {"intercept": round(beta[0], 6)} | {
        n: round(b, 6) for n, b in zip(names, beta[1:], strict=True)
    }


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


def main(argv: list[str] | None = None) -> None:
    """Train, calibrate, choose the threshold, write the model JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=CORPUS / "train.jsonl")
    parser.add_argument("--tune", type=Path, default=CORPUS / "tune.jsonl")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args(argv)

    from llmops_guardrails.detectors.injection import SIGNALS, InjectionDetector
    from llmops_guardrails.detectors.injection_model import FEATURE_VERSION, from_dict

    l2, rate = 1e-4, 0.2
    bias, weights = train_weights(read(args.train), args.seed, args.epochs, l2, rate)
    hashes = {"train_sha256": sha256(args.train), "tune_sha256": sha256(args.tune)}
    params = {"seed": args.seed, "epochs": args.epochs, "l2": l2, "rate": rate}
    digest = hashlib.sha256(
        json.dumps([hashes, params, FEATURE_VERSION], sort_keys=True).encode()
    ).hexdigest()
    data: dict[str, Any] = {
        "version": f"m{FEATURE_VERSION}-{digest[:10]}",
        "feature_version": FEATURE_VERSION,
        "bias": bias,
        "weights": weights,
        "calibration": {"intercept": 0.0, "model": 1.0},
        "threshold": 0.5,
        "meta": {**hashes, **params, "features": len(weights), "target_fpr": TARGET_FPR},
    }
    detector = InjectionDetector()
    detector._model = from_dict(data)  # uncalibrated weights, to compute the tune signals
    tune = read(args.tune)
    xs = [[detector.signals(r["text"])[n] for n in SIGNALS] for r in tune]
    ys = [int(r["label"]) for r in tune]
    data["calibration"] = fit_calibration(xs, ys, SIGNALS)
    cal = data["calibration"]
    scores = [
        _sigmoid(cal["intercept"] + math.fsum(cal[n] * v for n, v in zip(SIGNALS, x, strict=True)))
        for x in xs
    ]
    data["threshold"] = choose_threshold(scores, ys, TARGET_FPR)
    args.out.write_text(json.dumps(data, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    print(
        f"wrote {args.out}: {len(weights)} features, calibration {cal}, "
        f"threshold {data['threshold']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
