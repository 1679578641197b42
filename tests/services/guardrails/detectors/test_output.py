"""Output checks: JSON schema, refusals, system-prompt leakage, groundedness, URLs, length."""

from __future__ import annotations

import pytest

from llmops_guardrails.detectors.base import Detector
from llmops_guardrails.detectors.output import (
    GroundednessDetector,
    JsonSchemaCheck,
    LengthLimit,
    PromptLeakageDetector,
    RefusalDetector,
    UrlAllowlistDetector,
    build_output_checks,
    split_sentences,
)


def spans(d: Detector, text: str) -> list[tuple[str, str]]:
    return [(h.kind, text[h.start : h.end]) for h in d.detect(text)]


# --- JSON schema -------------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "required": ["answer"],
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number", "maximum": 1}},
}


def test_valid_json_passes() -> None:
    assert JsonSchemaCheck(SCHEMA).detect('  {"answer": "42", "confidence": 0.5}\n') == []


def test_schema_violations_name_the_keyword_and_span_the_json() -> None:
    text = ' {"confidence": 3} '
    assert spans(JsonSchemaCheck(SCHEMA), text) == [
        ("schema:required", '{"confidence": 3}'),  # at $, before $.confidence
        ("schema:maximum", '{"confidence": 3}'),
    ]


def test_invalid_json_spans_from_the_error() -> None:
    text = '{"answer": "x" "confidence": 1}'
    assert spans(JsonSchemaCheck(SCHEMA), text) == [("invalid_json", '"confidence": 1}')]
    truncated = '{"answer": "x", '
    assert spans(JsonSchemaCheck(SCHEMA), truncated) == [("invalid_json", truncated)]


def test_fenced_json_is_checked_inside_the_fence() -> None:
    text = 'Here you go:\n```json\n{"answer": 7}\n```\nAnything else?'
    assert spans(JsonSchemaCheck(SCHEMA), text) == [("schema:type", '{"answer": 7}')]
    assert spans(JsonSchemaCheck(SCHEMA, allow_fenced=False), text)[0][0] == "invalid_json"


def test_hits_never_quote_the_value() -> None:
    hits = JsonSchemaCheck({"type": "string", "maxLength": 2}).detect('"4111111111111111"')
    assert [h.kind for h in hits] == ["schema:maxLength"]


def test_invalid_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid JSON Schema"):
        JsonSchemaCheck({"type": "strnig"})


# --- Refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I can't help with that.", [("refusal:cannot_help", "I can't help")]),
        ("I can\u2019t assist with this.", [("refusal:cannot_help", "I can\u2019t assist")]),
        (
            "Sorry. I must respectfully decline.",
            [("refusal:cannot_help", "I must respectfully decline")],
        ),
        (
            "I'm sorry, but I cannot provide that.",
            [
                ("refusal:apology", "I'm sorry, but I can"),
                ("refusal:cannot_help", "I cannot provide"),
            ],
        ),
        (
            "Je suis désolée, mais je ne peux pas vous aider.",
            [
                ("refusal:apology", "Je suis désolée, mais je ne peux"),
                ("refusal:cannot_help", "je ne peux pas vous aider"),
            ],
        ),
        (
            "Ich kann Ihnen dabei leider nicht helfen.",
            [("refusal:cannot_help", "Ich kann Ihnen dabei leider nicht helfen")],
        ),
        (
            "Das verstößt gegen meine Richtlinien.",
            [("refusal:policy", "verstößt gegen meine Richtlinien")],
        ),
        ("Lo siento, pero no puedo.", [("refusal:apology", "Lo siento, pero no puedo")]),
        ("No puedo ayudarte con eso.", [("refusal:cannot_help", "No puedo ayudarte")]),
        ("Desculpe, mas não posso.", [("refusal:apology", "Desculpe, mas não posso")]),
        (
            "Isso vai contra as minhas diretrizes.",
            [("refusal:policy", "vai contra as minhas diretrizes")],
        ),
        (
            "As an AI language model, I have no opinions.",
            [("refusal:ai_identity", "As an AI language model")],
        ),
        ("En tant qu'IA, je n'ai pas d'avis.", [("refusal:ai_identity", "En tant qu'IA")]),
    ],
)
def test_refusals_in_five_languages(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(RefusalDetector(), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I can help with that. Here is the recipe.",
        "You can't go wrong with the blue one.",
        "Je peux vous aider : voici la réponse.",
        "Ich kann Ihnen dabei helfen.",
        "Puedo ayudarte con eso.",
        "Posso ajudar com isso.",
        "The AI team said the model is ready.",
    ],
)
def test_helpful_answers_are_not_refusals(text: str) -> None:
    assert RefusalDetector().detect(text) == []


def test_refusal_scores_by_family() -> None:
    hits = RefusalDetector().detect("As an AI, I'm sorry, but I can't help with that.")
    assert {h.kind: h.score for h in hits} == {
        "refusal:ai_identity": 0.6,
        "refusal:apology": 0.9,
        "refusal:cannot_help": 0.9,
    }


# --- System-prompt leakage ---------------------------------------------------------------------

SYSTEM = (
    "You are SupportBot for Acme Bank. Never reveal internal fee tables. Always answer in a "
    "calm tone and escalate fraud reports to the security desk at extension 4471."
)


def test_verbatim_leak_has_exact_span() -> None:
    leaked = "escalate fraud reports to the security desk at extension 4471"
    text = f"My rules: {leaked}. Happy?"
    hits = PromptLeakageDetector(SYSTEM).detect(text)
    assert [(h.kind, text[h.start : h.end]) for h in hits] == [("system_prompt_leak", leaked)]
    assert hits[0].score == 1.0


def test_edited_leak_is_found_and_trimmed_to_prompt_words() -> None:
    text = "Sure! My instructions say: you are supportbot for ACME bank, never reveal internal fee tables. Anything else?"
    hits = PromptLeakageDetector(SYSTEM).detect(text)
    assert [text[h.start : h.end] for h in hits] == [
        "you are supportbot for ACME bank, never reveal internal fee tables"
    ]
    assert 0.85 <= hits[0].score < 1.0


def test_answers_that_share_a_few_words_are_not_leaks() -> None:
    d = PromptLeakageDetector(SYSTEM)
    assert d.detect("Our fees are on the website; the security desk can help with fraud.") == []
    assert d.detect("") == []


def test_threshold_is_honoured() -> None:
    text = "you are supportbot for acme bank, never reveal internal fee tables"
    assert PromptLeakageDetector(SYSTEM, threshold=100).detect(text) == []


def test_a_short_prompt_is_one_window() -> None:
    d = PromptLeakageDetector("Answer only about gardening topics please.")
    text = "I was told: answer only about gardening topics please!"
    assert spans(d, text) == [("system_prompt_leak", "answer only about gardening topics please")]


# --- Groundedness ------------------------------------------------------------------------------

CONTEXT = [
    "The Model X ships in three colours: red, blue and black.",
    "Delivery takes 5 working days within the EU. Returns are free for 30 days.",
]


def test_supported_sentences_pass_unsupported_are_flagged_with_spans() -> None:
    text = (
        "The Model X ships in red, blue and black. "
        "Delivery takes 2 days worldwide via DHL Express. "
        "Returns are free for 30 days. Sure!"
    )
    assert spans(GroundednessDetector(CONTEXT), text) == [
        ("unsupported_sentence", "Delivery takes 2 days worldwide via DHL Express.")
    ]


def test_a_wrong_number_alone_makes_a_sentence_unsupported() -> None:
    d = GroundednessDetector(CONTEXT)
    good, bad = "Returns are free for 30 days.", "Returns are free for 90 days."
    assert d.detect(good) == []
    assert spans(d, bad) == [("unsupported_sentence", bad)]
    assert (d.support(good) or 0) > (d.support(bad) or 0)


def test_an_unknown_name_weighs_more_than_an_unknown_word() -> None:
    d = GroundednessDetector(CONTEXT)
    name = d.support("Delivery within the EU takes working days with Fedex.")
    word = d.support("Delivery within the EU takes working days with care.")
    assert name is not None
    assert word is not None
    assert name < word


def test_short_sentences_are_not_judged() -> None:
    assert GroundednessDetector(CONTEXT).detect("Sure! Thanks.") == []


def test_split_sentences_spans() -> None:
    text = "One two. Three four!\nFive six? seven"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "One two.",
        "Three four!",
        "Five six?",
        "seven",
    ]


# --- URLs --------------------------------------------------------------------------------------


def test_urls_off_the_allowlist_are_flagged_with_exact_spans() -> None:
    d = UrlAllowlistDetector(["example.com", "*.docs.test"])
    text = (
        "See https://docs.example.com/a?b=1, (https://example.com/x) and "
        "https://example.com.evil.test/p. Or https://example.com@evil.test/ or www.evil.test. "
        "And https://api.docs.test/v1 plus http://EXAMPLE.COM./ok"
    )
    assert spans(d, text) == [
        ("url_not_allowed", "https://example.com.evil.test/p"),
        ("url_not_allowed", "https://example.com@evil.test/"),
        ("url_not_allowed", "www.evil.test"),
    ]


def test_balanced_brackets_stay_in_the_url() -> None:
    d = UrlAllowlistDetector([])
    text = "(see https://en.wikipedia.test/wiki/Foo_(bar))"
    assert spans(d, text) == [("url_not_allowed", "https://en.wikipedia.test/wiki/Foo_(bar)")]


def test_no_urls_no_hits() -> None:
    assert UrlAllowlistDetector(["example.com"]).detect("report.pdf and a.b are not URLs") == []


# --- Length ------------------------------------------------------------------------------------


def test_length_limits_span_the_excess() -> None:
    text = "a" * 30
    assert spans(LengthLimit(max_chars=25), text) == [("too_long", "a" * 5)]
    assert spans(LengthLimit(max_tokens=5), text) == [("too_many_tokens", "a" * 10)]
    assert LengthLimit(max_chars=30, max_tokens=8).detect(text) == []
    with pytest.raises(ValueError, match="max_chars or max_tokens"):
        LengthLimit()


# --- From a policy -----------------------------------------------------------------------------


def test_build_output_checks_from_a_policy_section() -> None:
    config = {
        "json_schema": {"type": "object"},
        "refusal": True,
        "prompt_leakage": {"threshold": 90},
        "groundedness": {"threshold": 0.5},
        "urls": {"allow": ["example.com"]},
        "length": {"max_chars": 100},
    }
    names = [c.name for c in build_output_checks(config)]
    assert names == ["json_schema", "refusal", "url_allowlist", "length"]  # no references given
    with_refs = build_output_checks(config, system_prompt=SYSTEM, context=CONTEXT)
    assert [c.name for c in with_refs] == [
        "json_schema",
        "refusal",
        "prompt_leakage",
        "groundedness",
        "url_allowlist",
        "length",
    ]
    with pytest.raises(ValueError, match="unknown checks"):
        build_output_checks({"toxicity": True})


def test_dots_inside_tokens_do_not_end_a_sentence() -> None:
    text = "See example.com/a.b for v3.5 now... Really? Yes.Next"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "See example.com/a.b for v3.5 now...",
        "Really?",
        "Yes.Next",
    ]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "unit",
    [
        "a.b",  # dots with no space: a backtracking sentence pattern goes quadratic here
        "https://x.test/(((",
        "I can't ",
        '{"a": [',
        "Crème brûlée. ",
    ],
)
def test_one_megabyte_inputs_take_linear_time(unit: str) -> None:
    text = unit * (1_000_000 // len(unit))
    checks: list[Detector] = [
        RefusalDetector(),
        PromptLeakageDetector(SYSTEM),
        GroundednessDetector(CONTEXT),
        UrlAllowlistDetector(["example.com"]),
        JsonSchemaCheck(SCHEMA),
        LengthLimit(max_chars=10),
    ]
    for check in checks:
        for h in check.detect(text):
            assert 0 <= h.start <= h.end <= len(text)


def test_json_nested_too_deep_is_a_finding_not_a_crash() -> None:
    text = "[" * 100_000 + "]" * 100_000
    assert spans(JsonSchemaCheck(SCHEMA), text) == [("json_too_deep", text)]
    nested = "[" * 300 + "]" * 300  # parses, but deeper than recursive validation can walk
    recursive = JsonSchemaCheck({"type": "array", "items": {"$ref": "#"}})
    assert spans(recursive, nested) == [("json_too_deep", nested)]
    assert recursive.detect("[[[]]]") == []
