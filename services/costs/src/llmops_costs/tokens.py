"""Offline token estimates for calls that report no usage.

Some applications send an ``LlmCallCompleted`` without ``usage`` but with the opt-in ``content``
(the prompt and completion text). The costs service can still price such a call by counting the
tokens itself, with OpenAI's tokenizers through ``tiktoken``.

Offline by construction: ``tiktoken.get_encoding`` downloads its BPE files on first use, which a
service must not do (no egress in production, no network in tests). The two files needed are
shipped gzipped in :mod:`llmops_costs.prices` (``make prices`` copies them from the litellm wheel),
checked against the sha256 that tiktoken itself expects, and turned into ``tiktoken.Encoding``
objects here with tiktoken's own split patterns and special tokens.

Accuracy: exact for OpenAI models, whose tokenizer is one of the two shipped encodings. For
every other vendor (Anthropic, Google, Mistral, Llama ...) the count is an *approximation*:
``cl100k_base`` stands in for a tokenizer that is not public or not shipped, and typically lands
within 10-20% of the real count for English text (more for code or other scripts). Estimates are
therefore always reported with the encoding used, so the cost record can say so.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

import tiktoken

from llmops_contracts.llm import LlmCallCompleted, Message, Operation, Usage

O200K_BASE = "o200k_base"
CL100K_BASE = "cl100k_base"

#: Package that holds the gzipped BPE files (``<name>.tiktoken.gz``).
RESOURCE_PACKAGE = "llmops_costs.prices"

# OpenAI cookbook "How to count tokens with tiktoken" (num_tokens_from_messages): every message
# costs its role and content plus 3 tokens of framing (<|start|>{role}<|message|>...<|end|>), and
# every reply is primed with <|start|>assistant<|message|>, another 3.
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING_TOKENS = 3


@dataclass(frozen=True)
class EncodingSpec:
    """One shipped tiktoken encoding: what ``tiktoken_ext.openai_public`` declares for it."""

    name: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]

    @property
    def resource(self) -> str:
        """File name of the gzipped BPE ranks inside :data:`RESOURCE_PACKAGE`."""
        return f"{self.name}.tiktoken.gz"


# Copied from tiktoken 0.14.0 ``tiktoken_ext/openai_public.py``, where they live inside functions
# that download the ranks when called. tests/services/costs/test_tokens.py checks them against
# the installed tiktoken, so an upgrade that changes them fails a test instead of miscounting.
_O200K_PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PAT_STR = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""

ENCODINGS: dict[str, EncodingSpec] = {
    O200K_BASE: EncodingSpec(
        name=O200K_BASE,
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str=_O200K_PAT_STR,
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    CL100K_BASE: EncodingSpec(
        name=CL100K_BASE,
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=_CL100K_PAT_STR,
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}

# OpenAI model families on o200k_base (tiktoken.model's table, as prefixes): gpt-4o, chatgpt-4o,
# gpt-4.1, gpt-4.5, gpt-5*, the o-series reasoning models (o1, o3, o4-mini ...), codex-mini and
# gpt-oss (o200k_harmony = o200k_base plus chat-format special tokens, which plain text never
# produces). Everything else -- gpt-4, gpt-3.5, text-embedding-*, other vendors -- is cl100k_base.
_O200K_MODEL = re.compile(
    r"^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|codex-|o\d+(?:$|[-_.:]))"
)
# Bedrock-style vendor namespaces ("openai.gpt-oss-120b-1:0") in front of the model name.
_VENDOR_NAMESPACE = re.compile(r"^openai\.")


def encoding_for(model: str) -> str:
    """The tiktoken encoding name used to count tokens for a model.

    Provider routing prefixes (``openai/``, ``azure/``, ``openrouter/openai/``), a fine-tune
    prefix (``ft:``) and a Bedrock vendor namespace (``openai.``) are ignored. Unknown and
    non-OpenAI models get ``cl100k_base``, an approximation (see the module docstring).
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    name = _VENDOR_NAMESPACE.sub("", name.removeprefix("ft:"))
    return O200K_BASE if _O200K_MODEL.match(name) else CL100K_BASE


def read_ranks(spec: EncodingSpec) -> dict[bytes, int]:
    """The mergeable ranks of a shipped encoding, verified against tiktoken's sha256.

    Raises:
        ValueError: the shipped file does not match the hash tiktoken expects.
    """
    data = gzip.decompress(files(RESOURCE_PACKAGE).joinpath(spec.resource).read_bytes())
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.sha256:
        # A truncated or hand-edited file would silently miscount every estimate.
        raise ValueError(
            f"{RESOURCE_PACKAGE}/{spec.resource}: sha256 {actual}, expected {spec.sha256}; "
            "run `make prices` to restore it"
        )
    # Same format and parse as tiktoken.load.load_tiktoken_bpe: "<base64 token> <rank>" a line.
    return {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in data.splitlines() if line)
    }


def load_encoding(name: str) -> tiktoken.Encoding:
    """Build a shipped encoding from the package files (no download, no tiktoken cache)."""
    spec = ENCODINGS[name]
    return tiktoken.Encoding(
        name=spec.name,
        pat_str=spec.pat_str,
        mergeable_ranks=read_ranks(spec),
        special_tokens=dict(spec.special_tokens),
    )


class TokenEstimator:
    """Counts tokens offline; construct once and share (thread-safe).

    Construction is free: each encoding is loaded on first use (about 0.3 s and 30-60 MB for
    o200k_base) and kept for the life of the estimator.
    """

    def __init__(self) -> None:
        self._encodings: dict[str, tiktoken.Encoding] = {}
        self._lock = threading.Lock()

    def encoding(self, name: str) -> tiktoken.Encoding:
        """The named encoding, loaded on first use."""
        enc = self._encodings.get(name)
        if enc is None:
            with self._lock:  # two first calls at once must not both parse 200k ranks
                enc = self._encodings.get(name)
                if enc is None:
                    enc = self._encodings[name] = load_encoding(name)
        return enc

    def encoding_for(self, model: str) -> str:
        """The encoding name used for a model (see the module-level :func:`encoding_for`)."""
        return encoding_for(model)

    def count(self, text: str, model: str) -> int:
        """Tokens of ``text`` with the encoding of ``model``.

        Special-token strings such as ``<|endoftext|>`` count as the plain text they are: that
        is how an API tokenizes user content, and it means any text can be counted without error.
        """
        return len(self.encoding(encoding_for(model)).encode_ordinary(text))

    def estimate(self, call: LlmCallCompleted) -> tuple[Usage, str] | None:
        """Estimated usage of a call from its captured content, with the encoding used.

        Chat calls follow OpenAI's cookbook accounting: each input message costs
        :data:`TOKENS_PER_MESSAGE` plus its role and content, and the prompt gets
        :data:`REPLY_PRIMING_TOKENS` for the primed reply. Output tokens are the content of the
        output messages only: OpenAI's completion_tokens do not include the reply framing.
        Embeddings and text completions have no chat framing, so their input is counted as plain
        text. Returns None when the call carries no content or no messages at all.
        """
        content = call.content
        if content is None or not (content.input_messages or content.output_messages):
            return None
        model = call.response_model or call.request_model
        name = encoding_for(model)
        enc = self.encoding(name)

        def tokens(text: str) -> int:
            return len(enc.encode_ordinary(text))

        if call.operation in (Operation.EMBEDDINGS, Operation.TEXT_COMPLETION):
            input_tokens = sum(tokens(m.content) for m in content.input_messages)
        else:
            input_tokens = _chat_prompt_tokens(content.input_messages, tokens)
        output_tokens = sum(tokens(m.content) for m in content.output_messages)
        return Usage(input_tokens=input_tokens, output_tokens=output_tokens), name


def _chat_prompt_tokens(messages: list[Message], tokens: Callable[[str], int]) -> int:
    """Cookbook ``num_tokens_from_messages`` for the messages sent (0 when none was captured)."""
    if not messages:
        return 0  # nothing captured: do not invent the priming of a prompt we never saw
    framed = sum(TOKENS_PER_MESSAGE + tokens(m.role) + tokens(m.content) for m in messages)
    return framed + REPLY_PRIMING_TOKENS
