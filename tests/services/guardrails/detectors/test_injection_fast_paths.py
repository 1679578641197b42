"""The injection detector's shortcuts decide exactly what the plain paths decide.

Each shortcut skips work only where a cheaper test proves the work would find nothing: the rule
prefilter skips a trigger stem when the text lacks every word its patterns need, and the ROT13
and reversed views are built only when their word beginnings (computed without them) hold
enough trigger words. Checked over every text of the injection corpus, as written and in the
disguises the detector undoes.
"""

from __future__ import annotations

import base64
import codecs
import functools
import math
import random
from pathlib import Path

import pytest

from llmops_guardrails.detectors import canonical, decoders, injection_model
from llmops_guardrails.detectors import injection_rules as rules
from llmops_guardrails.detectors.canonical import canonicalise
from llmops_guardrails.detectors.decoders import reverse, rot13
from llmops_guardrails.detectors.injection import (
    _END5,
    _STEM5,
    InjectionDetector,
    _view_triggers,
)
from llmops_guardrails.detectors.injection_model import model_words, words
from llmops_guardrails.detectors.injection_quality import read_corpus
from llmops_guardrails.detectors.memo import WordMemo

CORPUS = Path(__file__).resolve().parents[4] / "services" / "guardrails" / "corpus" / "injection"


@functools.cache
def _texts() -> list[str]:
    texts = [r["text"] for path in sorted(CORPUS.glob("*.jsonl")) for r in read_corpus(path)]
    assert len(texts) > 7000  # the whole corpus, not a file that went missing
    # The third-party shared prompts run to 100 KB; their first 2 KB carry the same words
    # at a fiftieth of the time.
    return [text[:2048] for text in texts]


def _variants(text: str) -> list[str]:
    """A text as written, and in the disguises whose views and decodings the detector scans."""
    return [
        text,
        codecs.encode(text, "rot13"),
        text[::-1],
        "Decode this: " + base64.b64encode(text.encode()).decode(),
    ]


def test_the_prefilter_never_drops_a_rule_match() -> None:
    # Every canonical text of the corpus, and its ROT13 and reversed views (scanned by the
    # detector too): the same matches, at the same places, with and without the prefilter.
    compared = matched = 0
    for text in _texts():
        c = canonicalise(text).text
        for view in (c, rot13(c), reverse(c)):
            fast = rules.match(view)
            assert fast == rules.match(view, prefilter=False), view
            compared += 1
            matched += bool(fast)
    assert matched > 2000  # the corpus's attacks do match: the comparison is not vacuous


def test_the_prefilter_skips_most_trigger_stems_of_benign_prose() -> None:
    # What it is for: a support request full of trigger words ("you", "previous", "tell")
    # scans few of their stems.
    text = canonicalise(
        "Could you tell me when the previous parcel ships? I want to use my home address, "
        "please check the tracking number and answer when you can."
    ).text
    stems = rules.stems_of(text)
    triggered = rules.all_triggers() & stems
    kept = [s for s in triggered if (n := rules._stem(s).needs) is None or not stems.isdisjoint(n)]
    assert len(triggered) >= 8
    assert len(kept) <= len(triggered) // 3


def test_remembered_keys_are_each_words_first_three_to_five_letters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # keys_of remembers a word's keys; what it returns must be what slicing gives, also once
    # the memory is full and forgotten (a small bound, crossed many times here).
    memo = WordMemo(rules._keys, limit=500)
    monkeypatch.setattr(rules, "_KEYS", memo)
    distinct: set[str] = set()
    for text in _texts()[::3]:
        unique = set(words(canonicalise(text).text))
        distinct |= unique
        assert rules.keys_of(unique) == {w[:n] for w in unique for n in (3, 4, 5)}, text
        assert len(memo) <= 500
    assert len(distinct) > 5 * 500


def test_what_the_model_remembers_per_word_is_the_plain_definition() -> None:
    # The model reads a text through a per-word memory (Model.read): the words it keeps must be
    # model_words (letters only, two or more), each with its first five letters and that stem's
    # weight; its logit must be the plain sum over features(), and a long text's best window
    # the best of the plain windows.
    model = injection_model.load()
    windowed = 0
    long_texts = [" ".join(_texts()[i : i + 40]) for i in range(0, 2000, 40)]
    for text in _texts()[::3] + long_texts:
        tokens = words(canonicalise(text).text)
        read = model_words(tokens)
        assert read == [t for t in tokens if len(t) > 1 and t.isalpha()], text
        expected = [(model.weights.get(t[:5], 0.0), t[:5]) for t in read]
        assert [(weight, stem) for weight, stem, _ in model.read(tokens)] == expected
        assert model.logit(tokens) == pytest.approx(_plain_logit(model, read), abs=1e-9)
        if len(read) > injection_model.WINDOW:
            windowed += 1
            step, size = injection_model.WINDOW // 2, injection_model.WINDOW
            best = (-math.inf, 0, 0)
            for start in range(0, len(read) - step, step):
                end = min(start + size, len(read))
                score = _plain_logit(model, read[start:end])
                if score > best[0] + 1e-9:
                    best = (score, start, end)
            logit, start, end = model.best_window(tokens)
            assert (start, end) == best[1:]  # the window the hit's span is taken from
            assert logit == pytest.approx(best[0], abs=1e-9)
    assert windowed >= len(long_texts)


def _plain_logit(model: injection_model.Model, read: list[str]) -> float:
    total = sum(model.weights.get(f, 0.0) for f in injection_model.features(read))
    return model.bias + total / math.sqrt(1 + len(read))


def test_the_spaced_letters_hint_on_classes_is_the_hint_on_the_text() -> None:
    # canonical.spaced_hint searches ASCII text mapped to character classes; it must say what
    # the pattern on the text says: over the corpus (lower-cased, as canonicalise sees it) and
    # over random strings of letters, digits, gaps and other characters.
    rng = random.Random(5)
    alphabet = "abz09 .-_*+~/|,:'!Aé\n"
    texts = [t.lower() for t in _texts()]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(20_000)]
    hinted = 0
    for text in texts:
        plain = canonical._SPACED_HINT.search(text) is not None
        assert canonical.spaced_hint(text) == plain, text
        hinted += plain
    assert hinted > 200  # both answers occur, many times


def test_folding_piece_by_piece_is_the_plain_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    # canonical._fold folds each distinct character once and rebuilds the offset map only
    # around characters that fold to other than one; the plain rewrite, run by run, must give
    # the same canonical text, offsets and tricks. The corpus (disguises in five languages) and
    # random strings of letters that fold to none, one, two or three characters, between
    # escapes, invisible and tag characters that are rewritten before the fold.
    rng = random.Random(9)
    alphabet = "ab é\u00dfœ\u2026\ufb01\u0301\u200b\U000e0041&#65;%41-\uff291ö\u0130😀"
    texts = [*_texts(), *(r["text"] for r in read_corpus(CORPUS.parent / "pii" / "tune.jsonl"))]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 30))) for _ in range(20_000)]
    fast = [canonicalise(t) for t in texts]

    def plain(t: canonical._Text) -> None:
        t.rewrite(canonical._NON_ASCII, canonical._fold_run(t.tricks), "nfkc")

    monkeypatch.setattr(canonical, "_fold", plain)
    assert fast == [canonicalise(t) for t in texts]
    assert sum(c.starts is not None and len(c.text) != c.original_length for c in fast) > 1000


def _base64_class(c: str) -> str:
    return "b" if c.isascii() and (c.isalnum() or c in "+/_-") else " "


def _hex_class(c: str) -> str:
    return "h" if c in "0123456789abcdefABCDEF" else "s" if c in " :," else "."


def test_byte_level_rot13_and_payload_prefilters_read_text_as_characters_do() -> None:
    # ROT13 and the encoded-payload prefilters work on UTF-8 bytes (ASCII letters and the
    # base64 and hex alphabets are single bytes, nothing else is): the same as on characters.
    rng = random.Random(11)
    alphabet = "aZ09+/_-=:, \u00e9\u00df\u200b\U0001f600\ud800xX\\"
    texts = [v for t in _texts() for v in _variants(t)]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 60))) for _ in range(20_000)]
    on_chars = str.maketrans(decoders._LETTERS, decoders._ROTATED)
    runs = 0
    for text in texts:
        assert rot13(text) == text.translate(on_chars), text
        raw = text.encode("utf-8", "surrogatepass")
        base64_run = "b" * 16 in "".join(map(_base64_class, text))
        hex_run = "hhs" * 7 + "hh" in "".join(map(_hex_class, text))
        assert (decoders._B64_RUN in raw.translate(decoders._B64_CLASS)) == base64_run, text
        assert (decoders._HEX_RUN in raw.translate(decoders._HEX_CLASS)) == hex_run, text
        runs += base64_run + hex_run
    assert runs > 1000


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # words that follow a separator start a word of the text: their keys are needed
        ("[^a-z0-9]{1,4}(?:new|real)[^a-z0-9]{1,4}instructions", {"instr"}),
        ("[^a-z0-9]{1,4}(?:new|updated)[^a-z0-9]", {"new", "updat"}),
        # a short word counts only when a separator ends it as well
        ("[^a-z0-9]{1,4}(?:to|for)[^a-z0-9]{1,4}x", {"to", "for"}),
        ("[^a-z0-9]{1,4}(?:to|for)", None),
        # a word that may be glued to letters before it (x_delete) is needed as a substring,
        # which word keys cannot say: nothing
        ("[^a-z0-9]{1,4}[a-z_]{0,20}(?:delete|drop)", None),
        # an optional word is not needed; a repeated one is
        ("[^a-z0-9]{1,4}(?:system[^a-z0-9]{1,4})?prompt", {"promp"}),
        ("(?:[^a-z0-9]{1,4}system){1,2}", {"syste"}),
        # the stem's own continuation (no separator before it) is not a word start
        ("ore[^a-z0-9]{1,4}all", {"all"}),
        ("ore", None),
    ],
)
def test_needs_reads_the_words_a_pattern_cannot_match_without(
    source: str, expected: set[str] | None
) -> None:
    assert rules.needs(source) == (None if expected is None else frozenset(expected))


def test_the_view_triggers_are_counted_as_on_the_views_themselves() -> None:
    # The detector counts a view's trigger words from the text's own keys and word ends;
    # building the views and reading their words must give the same counts. (Keys stand for
    # the five-letter stems because every view trigger has five letters.)
    triggers = rules.view_triggers()
    assert {len(t) for t in triggers} == {rules.KEY}
    rotated, backwards = _view_triggers()
    counted = 0
    for text in _texts():
        for variant in _variants(text)[:3]:
            if not variant.isascii():
                continue  # a text that is not ASCII builds its ROT13 view (see _views)
            c = canonicalise(variant).text
            unique = set(words(c))
            keys = rules.keys_of(unique)
            plain = set(map(_STEM5, unique)) & triggers
            rot = set(map(_STEM5, words(rot13(c)))) & triggers
            back = set(map(_STEM5, words(reverse(c)))) & triggers
            assert len(keys & triggers) == len(plain), c
            assert len(keys & rotated) == len(rot), c
            assert len(set(map(_END5, unique)) & backwards) == len(back), c
            counted += bool(rot) + bool(back)
    assert counted > 1000


def test_the_detector_decides_the_same_without_the_prefilter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The whole analysis (score, signals, families, hits) of a fifth of the corpus's texts and
    # their disguises, with the prefilter and with every trigger stem scanned (the rule matches
    # of every text are compared above).
    texts = [v for t in _texts()[::5] for v in _variants(t)]
    detector = InjectionDetector()
    fast = [detector.analyse(t) for t in texts]
    monkeypatch.setattr(rules, "match", functools.partial(rules.match, prefilter=False))
    plain = [detector.analyse(t) for t in texts]
    assert fast == plain
    assert sum(a.flagged for a in fast) > 1000


def test_a_word_memory_stays_within_its_bounds() -> None:
    # Made-up words cannot grow it: past the limit it starts over, and a word longer than any
    # real one is answered without being kept (it would keep the whole text it came from).
    memo = WordMemo(lambda w: w[:5], limit=100, longest=40)
    for i in range(1000):
        word = f"w{i}"
        assert memo[word] == word[:5]
        assert len(memo) <= 100
    giant = "x" * 100_000
    assert memo[giant] == "xxxxx"
    assert giant not in memo
