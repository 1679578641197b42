"""Terms and topics: whole-word, case- and accent-insensitive, allow overrides, topic windows."""

from __future__ import annotations

import pytest

from llmops_guardrails.detectors.base import Detector
from llmops_guardrails.detectors.folding import fold
from llmops_guardrails.detectors.terms import TermsConfig, TermsDetector

CONFIG = {
    "deny": ["kill", "darkweb", "credit card dump"],
    "allow": ["kill the process"],
    "competitors": ["Acme", "Acme Labs", "Globex Corp", "Müller"],
    "topics": [
        {
            "name": "elections",
            "keywords": ["ballot", "candidate", "vote"],
            "min_hits": 2,
            "window": 60,
        }
    ],
}
ENGINES = ["aho", "regex"]


def spans(d: Detector, text: str) -> list[tuple[str, str]]:
    return [(h.kind, text[h.start : h.end]) for h in d.detect(text)]


@pytest.fixture(params=ENGINES)
def detector(request: pytest.FixtureRequest) -> TermsDetector:
    return TermsDetector(CONFIG, engine=request.param)


def test_is_a_versioned_detector(detector: TermsDetector) -> None:
    d: Detector = detector
    hits = d.detect("buy from acme")
    assert [(h.detector, h.version, h.score) for h in hits] == [("terms", "terms-1", 1.0)]


def test_case_accent_and_spacing_insensitive_with_exact_spans(detector: TermsDetector) -> None:
    text = "Ask ACME LABS, or globex   CORP, or herr MULLER, or Herr Müller."
    assert spans(detector, text) == [
        ("competitor", "ACME LABS"),
        ("competitor", "globex   CORP"),
        ("competitor", "MULLER"),
        ("competitor", "Müller"),
    ]


def test_whole_words_only(detector: TermsDetector) -> None:
    assert detector.detect("The acmeist skill-set of the killer whale, via pre-darkwebbing.") == []
    assert spans(detector, "(acme)") == [("competitor", "acme")]


def test_the_longest_term_wins_over_one_inside_it(detector: TermsDetector) -> None:
    assert spans(detector, "Acme Labs and Acme") == [
        ("competitor", "Acme Labs"),
        ("competitor", "Acme"),
    ]


def test_allow_excuses_only_what_it_overlaps(detector: TermsDetector) -> None:
    text = "Kill the process first. Then kill the rest."
    assert spans(detector, text) == [("denied_term", "kill")]
    assert detector.detect(text)[0].start == text.index("Then kill") + 5


def test_multiword_deny_term(detector: TermsDetector) -> None:
    text = "Selling a fresh CREDIT card  dump here"
    assert spans(detector, text) == [("denied_term", "CREDIT card  dump")]


def test_topic_needs_k_distinct_keywords_within_the_window(detector: TermsDetector) -> None:
    # Two different keywords 27 characters apart: a topic hit spanning both.
    text = "Each candidate asked for a recount of every ballot."
    assert spans(detector, text) == [
        ("topic:elections", "candidate asked for a recount of every ballot")
    ]
    # The same keyword twice is one distinct keyword: no topic.
    assert detector.detect("ballot after ballot") == []
    # Two keywords further apart than the window: no topic.
    far = "the candidate " + "x" * 80 + " vote"
    assert detector.detect(far) == []


def test_topic_windows_merge_into_one_hit(detector: TermsDetector) -> None:
    text = "vote, ballot, candidate, vote"
    assert spans(detector, text) == [("topic:elections", text)]


def test_accents_in_the_text_keep_spans_on_the_original() -> None:
    d = TermsDetector({"deny": ["creme brulee"]})
    text = "Un peu de Crème  Brûlée ?"
    (hit,) = d.detect(text)
    assert text[hit.start : hit.end] == "Crème  Brûlée"


def test_empty_config_and_empty_text() -> None:
    assert TermsDetector({}).detect("anything at all") == []
    assert TermsDetector(CONFIG).detect("") == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"deny": "acme"}, "expected a list"),
        ({"deny": [" "]}, "empty term"),
        ({"block": ["x"]}, "unknown keys"),
        ({"topics": [{"name": "t", "keywords": ["a"], "min_hits": 2}]}, "fewer distinct"),
        ({"topics": [{"keywords": ["a"]}]}, "needs a name"),
    ],
)
def test_invalid_config_is_refused_with_the_reason(bad: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TermsConfig.from_dict(bad)


def test_engines_agree_on_a_long_text() -> None:
    text = ("Acme and Globex corp compete; kill the process; vote for the candidate. " * 200)[
        :10_000
    ]
    aho, rx = (TermsDetector(CONFIG, engine=e) for e in ENGINES)
    assert aho.detect(text) == rx.detect(text)
    assert len(aho.detect(text)) > 100


def test_fold_maps_back_to_original_offsets() -> None:
    text = "ﬁne Straße\t\tİstanbul"
    f = fold(text)
    assert f.text == "fine strasse istanbul"
    s, e = f.span(f.text.index("strasse"), f.text.index("strasse") + 7)
    assert text[s:e] == "Straße"
    s, e = f.span(0, 4)
    assert text[s:e] == "ﬁne"


@pytest.mark.timeout(60)
def test_one_megabyte_takes_linear_time(detector: TermsDetector) -> None:
    text = ("vote ballot Acme kill darkweb Crème " * 30_000)[:1_000_000]
    hits = detector.detect(text)
    assert len(hits) > 50_000
    assert all(0 <= h.start < h.end <= len(text) for h in hits)
