"""Offline token estimates: same counts as tiktoken, right encoding per model, no network ever."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public as openai_public  # type: ignore[import-untyped]

from llmops_contracts.llm import Content, LlmCallCompleted, Message, Operation
from llmops_costs import tokens
from llmops_costs.tokens import CL100K_BASE, ENCODINGS, O200K_BASE, TokenEstimator, encoding_for

TEXTS = {
    "empty": "",
    "ascii": "The quick brown fox jumps over the lazy dog. It's 2025; we'll see 1234567 items!",
    "whitespace": "  leading\n\n\ttabs   and    runs\r\n\r\n   trailing   ",
    "cjk": "東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다。",
    "emoji": "Deploy 🚀🚀 done ✅ — family: 👨‍👩‍👧‍👦, flag: 🇫🇷, skin: 👍🏽",
    "code": (
        "def fib(n: int) -> int:\n"
        "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
        'print({"a": [1, 2, 3]}, f"{fib(10):>8}")  # comment\n'
        "const x = (a, b) => a ?? b; if (x !== null) { console.log(`${x}`); }\n"
    ),
    "scripts": "Привет, мир! مرحبا بالعالم नमस्ते दुनिया Γειά σου Κόσμε שלום עולם",  # noqa: RUF001
    "special": "before <|endoftext|> middle <|endofprompt|> <|fim_prefix|> after",
    "repeated": "a" * 500 + "ab" * 300 + "\n" * 50 + "=" * 200,
}


def tiktoken_declared(name: str) -> dict[str, Any]:
    """What tiktoken_ext.openai_public declares for an encoding, without downloading anything."""
    seen: dict[str, Any] = {}

    def record(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen.update(url=blobpath, sha256=expected_hash)
        return {}

    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = record
    try:
        spec = openai_public.ENCODING_CONSTRUCTORS[name]()
    finally:
        openai_public.load_tiktoken_bpe = original
    return {**seen, "pat_str": spec["pat_str"], "special_tokens": spec["special_tokens"]}


def shipped_bytes(name: str) -> bytes:
    path = files(tokens.RESOURCE_PACKAGE).joinpath(ENCODINGS[name].resource)
    return gzip.decompress(path.read_bytes())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tiktoken.Encoding]]:
    """tiktoken's own encodings, built by tiktoken.get_encoding from a pre-filled cache.

    The cache holds the shipped files under tiktoken's cache names (sha1 of the URL); tiktoken
    checks their sha256 itself, and any miss would try a download that the socket guard fails.
    Everything else (split pattern, special tokens, rank parsing) is tiktoken's own code.
    """
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for name in ENCODINGS:
        key = hashlib.sha1(tiktoken_declared(name)["url"].encode()).hexdigest()
        (cache / key).write_bytes(shipped_bytes(name))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        yield {name: tiktoken.get_encoding(name) for name in ENCODINGS}


@pytest.fixture(scope="module")
def estimator() -> TokenEstimator:
    return TokenEstimator()


# --------------------------------------------------------------------------- shipped files


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_shipped_files_match_tiktokens_expected_hash(name: str) -> None:
    declared = tiktoken_declared(name)
    assert ENCODINGS[name].sha256 == declared["sha256"]
    assert hashlib.sha256(shipped_bytes(name)).hexdigest() == declared["sha256"], (
        "shipped BPE file differs from tiktoken's: run `make prices`"
    )


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_copied_pattern_and_special_tokens_match_installed_tiktoken(name: str) -> None:
    declared = tiktoken_declared(name)
    assert ENCODINGS[name].pat_str == declared["pat_str"]
    assert ENCODINGS[name].special_tokens == declared["special_tokens"]


def test_a_corrupted_file_is_refused() -> None:
    wrong = tokens.EncodingSpec(CL100K_BASE, "0" * 64, tokens._CL100K_PAT_STR, {})
    with pytest.raises(ValueError, match="make prices"):
        tokens.read_ranks(wrong)


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize("name", sorted(ENCODINGS))
@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_counts_equal_tiktokens_own(
    estimator: TokenEstimator, reference: dict[str, tiktoken.Encoding], name: str, kind: str
) -> None:
    text = TEXTS[kind]
    model = "gpt-4o" if name == O200K_BASE else "gpt-4"
    ref = reference[name]
    ours = estimator.encoding(name)
    # Same token ids, not only the same number of them.
    assert ours.encode_ordinary(text) == ref.encode_ordinary(text)
    assert ours.encode(text, disallowed_special=()) == ref.encode(text, disallowed_special=())
    assert estimator.count(text, model) == len(ref.encode_ordinary(text))
    assert ours.decode(ours.encode_ordinary(text)) == text


def test_the_encodings_really_differ(estimator: TokenEstimator) -> None:
    # Guards the test above against comparing one encoding with itself.
    text = TEXTS["cjk"] + TEXTS["code"]
    assert estimator.count(text, "gpt-4o") != estimator.count(text, "gpt-4")
    assert estimator.encoding(O200K_BASE).n_vocab > estimator.encoding(CL100K_BASE).n_vocab


def test_special_token_text_counts_as_plain_text(estimator: TokenEstimator) -> None:
    assert estimator.count("<|endoftext|>", "gpt-4o") > 1


def test_encodings_are_loaded_once_and_lazily() -> None:
    est = TokenEstimator()
    assert est._encodings == {}
    est.count("hello", "gpt-4o")
    first = est.encoding(O200K_BASE)
    est.count("hello again", "gpt-4o-mini")
    assert est.encoding(O200K_BASE) is first
    assert set(est._encodings) == {O200K_BASE}


# --------------------------------------------------------------------------- model -> encoding


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4o-2024-08-06",
        "gpt-4o-realtime-preview",
        "chatgpt-4o-latest",
        "gpt-4.1",
        "gpt-4.1-nano-2025-04-14",
        "gpt-4.5-preview",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5.1-codex",
        "o1",
        "o1-mini",
        "o1-pro",
        "o3",
        "o3-mini-2025-01-31",
        "o4-mini",
        "codex-mini-latest",
        "gpt-oss-120b",
        "gpt-oss:20b",
        "openai/gpt-4o",
        "azure/gpt-4.1-mini",
        "openrouter/openai/gpt-5",
        "OpenAI/GPT-4o",
        "ft:gpt-4o-mini-2024-07-18:acme::abc123",
        "openai.gpt-oss-120b-1:0",
        " gpt-4o ",
    ],
)
def test_o200k_models(model: str) -> None:
    assert encoding_for(model) == O200K_BASE
    assert TokenEstimator().encoding_for(model) == O200K_BASE


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4",
        "gpt-4-turbo",
        "gpt-4-0613",
        "gpt-4-32k",
        "gpt-3.5-turbo",
        "gpt-3.5-turbo-0125",
        "gpt-35-turbo",
        "azure/gpt-35-turbo-16k",
        "ft:gpt-3.5-turbo:acme::x",
        "text-embedding-3-small",
        "text-embedding-ada-002",
        "openai/text-embedding-3-large",
        "claude-sonnet-4-5",
        "anthropic/claude-3-5-haiku-20241022",
        "gemini-2.5-pro",
        "mistral-large-latest",
        "meta-llama/Llama-3.3-70B-Instruct",
        "omni-moderation-latest",
        "olmo-2",
        "unknown",
        "",
    ],
)
def test_cl100k_models(model: str) -> None:
    assert encoding_for(model) == CL100K_BASE


# --------------------------------------------------------------------------- estimate


def make_call(content: Content | None, **kwargs: Any) -> LlmCallCompleted:
    kwargs.setdefault("provider", "openai")
    kwargs.setdefault("request_model", "gpt-4o-mini")
    return LlmCallCompleted(latency_ms=10.0, content=content, **kwargs)


CHAT = Content(
    input_messages=[
        Message(role="system", content="You are a terse assistant. Answer in one sentence."),
        Message(role="user", content="What's the capital of Japan? 日本の首都は？"),  # noqa: RUF001
        Message(role="assistant", content="Tokyo."),
        Message(role="user", content="And its population? 🙂"),
    ],
    output_messages=[Message(role="assistant", content="About 14 million people live in Tokyo.")],
)


def cookbook_prompt_tokens(messages: list[Message], enc: tiktoken.Encoding) -> int:
    """OpenAI cookbook num_tokens_from_messages (gpt-4o / gpt-4 family), written out again."""
    num_tokens = 0
    for message in messages:
        num_tokens += 3
        for value in (message.role, message.content):
            num_tokens += len(enc.encode(value))
    return num_tokens + 3  # every reply is primed with <|start|>assistant<|message|>


@pytest.mark.parametrize(
    ("model", "name"), [("gpt-4o-mini", O200K_BASE), ("gpt-4-turbo", CL100K_BASE)]
)
def test_estimate_follows_the_cookbook(
    estimator: TokenEstimator, reference: dict[str, tiktoken.Encoding], model: str, name: str
) -> None:
    result = estimator.estimate(make_call(CHAT, request_model=model))
    assert result is not None
    usage, encoding = result
    enc = reference[name]
    assert encoding == name
    assert usage.input_tokens == cookbook_prompt_tokens(CHAT.input_messages, enc) > 0
    assert usage.output_tokens == len(enc.encode(CHAT.output_messages[0].content)) > 0
    assert usage.cache_read_input_tokens == usage.reasoning_tokens == 0


def test_estimate_prefers_the_response_model(estimator: TokenEstimator) -> None:
    call = make_call(CHAT, request_model="my-router-alias", response_model="gpt-4o-2024-08-06")
    result = estimator.estimate(call)
    assert result is not None
    assert result[1] == O200K_BASE
    fallback = estimator.estimate(make_call(CHAT, request_model="claude-sonnet-4-5"))
    assert fallback is not None
    assert fallback[1] == CL100K_BASE


def test_estimate_of_embeddings_has_no_chat_framing(
    estimator: TokenEstimator, reference: dict[str, tiktoken.Encoding]
) -> None:
    texts = ["first document", "second, longer document about tokens"]
    content = Content(input_messages=[Message(role="user", content=t) for t in texts])
    call = make_call(
        content, request_model="text-embedding-3-small", operation=Operation.EMBEDDINGS
    )
    result = estimator.estimate(call)
    assert result is not None
    usage, name = result
    assert name == CL100K_BASE
    assert usage.input_tokens == sum(len(reference[CL100K_BASE].encode(t)) for t in texts)
    assert usage.output_tokens == 0


def test_estimate_with_output_only_does_not_invent_a_prompt(estimator: TokenEstimator) -> None:
    content = Content(output_messages=[Message(role="assistant", content="Hello there!")])
    result = estimator.estimate(make_call(content))
    assert result is not None
    assert result[0].input_tokens == 0
    assert result[0].output_tokens == estimator.count("Hello there!", "gpt-4o-mini")


@pytest.mark.parametrize("content", [None, Content()], ids=["no content", "no messages"])
def test_estimate_without_content_is_none(
    estimator: TokenEstimator, content: Content | None
) -> None:
    assert estimator.estimate(make_call(content)) is None


# --------------------------------------------------------------------------- offline


def test_encodings_load_without_network_or_tiktoken_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Besides the session's socket guard: tiktoken's cache is empty, and its file reader fails.
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))

    def no_download(blobpath: str) -> bytes:
        raise AssertionError(f"tiktoken tried to read {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_download)
    est = TokenEstimator()
    assert est.count("hello world", "gpt-4o") == 2
    assert est.count("hello world", "gpt-4") == 2
    assert list(cache.iterdir()) == []


def test_runtime_imports_neither_litellm_nor_a_http_client(tmp_path: Path) -> None:
    # A fresh interpreter: this test session may already have imported litellm elsewhere.
    code = (
        "import sys\n"
        "from llmops_costs.tokens import TokenEstimator\n"
        "est = TokenEstimator()\n"
        "assert est.count('hi', 'gpt-4o') == 1 and est.count('hi', 'gpt-4') == 1\n"
        "leaked = {'litellm', 'requests', 'blobfile'} & set(sys.modules)\n"
        "assert not leaked, leaked\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
    assert list(tmp_path.iterdir()) == []
