"""guardrails-ai as the plug-in layer: our detectors as its validators, its validators in policies.

Two directions:

- **Ours in anyone's Guard.** :func:`register_validators` registers every built-in detector (any
  class in :mod:`llmops_guardrails.detectors` implementing the ``Detector`` port: injection,
  terms, the output checks, PII and secrets once they land) as a guardrails-ai ``Validator``
  named ``llmops/<detector name>``, for ``data_type="string"``::

      from guardrails import Guard
      from llmops_guardrails.plugins import register_validators

      validators = register_validators()
      guard = Guard().use(validators["llmops/injection"](on_fail="exception"))

  The validator fails when a hit scores at or above its ``threshold`` (default: the
  detector's own ``threshold`` if it has one, e.g. injection's calibrated one, else any
  hit). Its ``FailResult`` has one ``ErrorSpan`` per hit (``reason`` is the hit's kind, never
  the text) and the hits themselves in ``metadata["llmops_hits"]``. Constructor arguments
  other than ``threshold``/``on_fail`` go to the detector (``llmops/terms`` takes
  ``config=...``); ``detector=`` hands over a ready instance instead.
  :func:`detector_validator` does the same for any ``Detector`` of your own.

- **Anyone's in our policies.** A policy names installed guardrails-ai validators with their
  arguments (:class:`ValidatorSpec`; in YAML ``validators: [{name: guardrails/regex_match,
  args: {regex: "\\\\d{4}", match_type: search}}]``). :class:`GuardRunner` resolves them
  (:func:`resolve_validator`: the registry, then the installed ``guardrails_ai.<name>``
  packages that PyPI's ``guardrails-ai-*`` distributions provide; never the hub service),
  runs them through one ``AsyncGuard`` and turns each ``FailResult`` into hits: one per
  ``error_span``, else one over the whole text.

**Sealed.** guardrails-ai phones home by default: with no ``~/.guardrailsrc`` its settings say
``enable_metrics=True``, and the first ``Guard`` builds an OpenTelemetry exporter that posts
spans to the vendor's collector (an AWS API Gateway host) from a background thread; there is
no environment variable to stop it, and every ``Guard()`` re-reads the rc file. Its remote
inference and "server" modes are further ways out. :func:`seal_guardrails` closes all of them
before anything here touches guardrails (every entry point calls it first); see its docstring.

Nothing here does I/O or imports guardrails at import time (importing guardrails-ai takes
seconds and reads ``~/.guardrailsrc``): the first call pays, once.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import pkgutil
import sqlite3
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from llmops_guardrails.detectors.base import Detector, Hit

PREFIX = "llmops/"
#: ``FailResult.metadata`` key under which our validators put their hits (as dicts).
HITS_KEY = "llmops_hits"
#: The kind of a hit made from a third-party validator's failure (its message may quote the
#: text, so it is not kept).
FAIL_KIND = "fail"


class UnknownValidator(LookupError):
    """A policy names a validator that is neither registered nor installed."""


class InvalidValidatorSpec(ValueError):
    """A validator exists but refuses the arguments a policy gives it."""


# --- Sealing -----------------------------------------------------------------------------------


def seal_guardrails() -> None:
    """Make guardrails-ai unable to reach the network; idempotent, call before first use.

    - ``nltk.download`` (if nltk is installed) becomes a no-op *before* guardrails is imported:
      ``guardrails.utils.docs_utils`` downloads the ``punkt`` tokenizer at import time when
      nltk is present and punkt is not;
    - ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (unless set): litellm, which guardrails and some hub
      validators import, fetches its price map from the internet at import otherwise;
    - the settings singleton gets an rc with ``enable_metrics=False`` and
      ``use_remote_inferencing=False``, and ``RC.load`` is pinned to return that too (every
      ``Guard()`` reloads the rc file, and a user's file could turn either back on);
    - the hub-telemetry singleton is replaced by an inert one *without* a tracer, exporter or
      export thread, so even ``Guard.configure(allow_metrics_collection=True)`` has nothing to
      send with;
    - ``settings.disable_tracing = True`` (no spans on the global OpenTelemetry provider) and
      ``settings.use_server = False`` (never the guardrails API server);
    - the sqlite3 adapters and converters guardrails registers process-wide at import (its
      call tracing stores datetimes as epoch floats) are put back as they were.

    Call it before any other code constructs a guardrails ``Guard``: a telemetry exporter built
    earlier may still flush the spans it already queued.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    _disarm_nltk_download()
    # Importing guardrails registers process-wide sqlite3 adapters (its call tracing stores a
    # datetime as a Unix epoch float): every other SQLite writer in the process would then
    # store dates as numbers. Put back what the process had before the first import.
    before = (
        None if "guardrails" in sys.modules else (dict(sqlite3.adapters), dict(sqlite3.converters))
    )
    from guardrails.classes.rc import RC  # type: ignore[import-untyped]
    from guardrails.settings import settings  # type: ignore[import-untyped]
    from guardrails.utils import hub_telemetry_utils  # type: ignore[import-untyped]

    if before is not None:
        adapters, converters = before
        sqlite3.adapters.clear()
        sqlite3.adapters.update(adapters)
        sqlite3.converters.clear()
        sqlite3.converters.update(converters)

    def load(cls: Any, logger: Any = None) -> Any:
        return cls(enable_metrics=False, use_remote_inferencing=False)

    RC.load = classmethod(load)
    settings.rc = RC.load()
    settings.disable_tracing = True
    settings.use_server = False
    telemetry = hub_telemetry_utils.HubTelemetry
    current = telemetry._instance
    if current is None or getattr(current, "_tracer", None) is not None:
        inert = object.__new__(telemetry)  # skips initialize_tracer: no provider, no exporter
        inert._enabled = False
        inert._tracer = None
        inert._prop = None
        inert._carrier = {}
        inert._tracer_provider = None
        inert._processor = None
        if current is not None:  # built before we were called: stop it making new spans
            current._enabled = False
            current._tracer = None
        telemetry._instance = inert


def _disarm_nltk_download() -> None:
    if importlib.util.find_spec("nltk") is None:
        return
    import nltk  # type: ignore[import-not-found,unused-ignore]

    def no_download(*args: Any, **kwargs: Any) -> bool:
        return False  # nltk's own "download failed" value; data must be installed offline

    nltk.download = no_download


def _gr() -> Any:
    """The guardrails package, sealed (``Any``: guardrails-ai ships no type information)."""
    seal_guardrails()
    import guardrails  # type: ignore[import-untyped]

    return guardrails


# --- Our detectors as validators ---------------------------------------------------------------


def detector_validator(
    factory: Callable[..., Detector], name: str | None = None, *, register: bool = True
) -> Any:
    """A guardrails-ai ``Validator`` class running the detectors ``factory`` builds.

    Args:
        factory: a ``Detector`` class (or any callable returning a detector; its keyword
            arguments come from the validator's constructor).
        name: the detector's name (default: ``factory.name``); registered as ``llmops/<name>``.
        register: register it with guardrails-ai (so a ``Guard`` accepts it).

    Returns:
        The validator class; instances take ``threshold``, ``on_fail``, ``detector`` (a ready
        detector instead of calling ``factory``) and the factory's keyword arguments.
    """
    gr = _gr()
    from guardrails.classes.validation.validation_result import (  # type: ignore[import-untyped]
        FailResult,
        PassResult,
    )
    from guardrails_ai.types import ErrorSpan  # type: ignore[import-untyped]

    detector_name = name or str(factory.name)  # type: ignore[attr-defined]
    rail = PREFIX + detector_name

    class DetectorValidator(gr.Validator):  # type: ignore[misc,name-defined]
        """Runs an llmops detector; fails on hits scoring at or above ``threshold``."""

        def __init__(
            self,
            threshold: float | None = None,
            on_fail: Any = None,
            detector: Detector | None = None,
            **params: Any,
        ) -> None:
            # guardrails records the keyword arguments (for serialising the guard): pass only
            # the plain ones, not a detector object.
            super().__init__(on_fail=on_fail, threshold=threshold, **params)
            self.detector: Detector = detector if detector is not None else factory(**params)
            self.threshold = float(
                threshold if threshold is not None else getattr(self.detector, "threshold", 0.0)
            )

        def _validate(self, value: Any, metadata: dict[str, Any]) -> Any:
            text = value if isinstance(value, str) else str(value)
            hits = [h for h in self.detector.detect(text) if h.score >= self.threshold]
            if not hits:
                return PassResult()
            kinds = sorted({h.kind for h in hits})
            return FailResult(
                error_message=f"{rail}: {len(hits)} finding(s): {', '.join(kinds)}",
                error_spans=[ErrorSpan(start=h.start, end=h.end, reason=h.kind) for h in hits],
                metadata={HITS_KEY: [asdict(h) for h in hits]},
            )

        async def async_validate(self, value: Any, metadata: dict[str, Any]) -> Any:
            # guardrails' default hops to a thread pool; detectors are pure and fast.
            return self.validate(value, metadata)

    DetectorValidator.__name__ = DetectorValidator.__qualname__ = _class_name(detector_name)
    if register:
        return gr.register_validator(name=rail, data_type="string")(DetectorValidator)
    return DetectorValidator


def _class_name(detector_name: str) -> str:
    return "Llmops" + "".join(p.capitalize() for p in detector_name.split("_")) + "Validator"


def builtin_detectors() -> dict[str, Callable[..., Detector]]:
    """Every ``Detector`` class in :mod:`llmops_guardrails.detectors`, by detector name.

    A class counts when it has a string ``name``, a ``version`` and a ``detect`` method and is
    defined in that package (so PII and secrets detectors join when their modules land).
    """
    import llmops_guardrails.detectors as package

    found: dict[str, Any] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for obj in vars(module).values():
            name = getattr(obj, "name", None)
            if (
                inspect.isclass(obj)
                and obj.__module__ == module.__name__
                and isinstance(name, str)
                and hasattr(obj, "version")
                and callable(getattr(obj, "detect", None))
            ):
                found.setdefault(name, obj)
    return found


def register_validators(extra: Iterable[Callable[..., Detector]] = ()) -> dict[str, Any]:
    """Register every built-in detector (and ``extra`` ones) as ``llmops/<name>``; idempotent.

    Registration is an explicit call rather than decorators run at import: it imports
    guardrails-ai (seconds), seals it, and writes into its process-wide registry.

    Returns:
        ``llmops/<name>`` -> validator class.
    """
    _gr()
    from guardrails.validator_base import validators_registry  # type: ignore[import-untyped]

    out: dict[str, Any] = {}
    for factory in [*builtin_detectors().values(), *extra]:
        rail = PREFIX + str(factory.name)  # type: ignore[attr-defined]
        existing = validators_registry.get(rail)
        if existing is not None and getattr(existing, "_llmops_factory", None) is factory:
            out[rail] = existing
            continue
        cls = detector_validator(factory)
        cls._llmops_factory = factory
        out[rail] = cls
    return out


# --- Policies naming validators ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValidatorSpec:
    """A validator a policy names, with its constructor arguments.

    Attributes:
        name: the registered name (``guardrails/regex_match``, ``llmops/injection``; a
            ``hub://`` prefix is accepted and ignored).
        args: keyword arguments for its constructor.
    """

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_value(cls, value: ValidatorSpec | Mapping[str, Any] | str) -> ValidatorSpec:
        """From a spec, ``{name, args?}`` or a bare name."""
        if isinstance(value, ValidatorSpec):
            return value
        if isinstance(value, str):
            return cls(value)
        unknown = set(value) - {"name", "args"}
        if "name" not in value or unknown:
            raise InvalidValidatorSpec(f"a validator is {{name, args}}, got keys {sorted(value)}")
        args = value.get("args") or {}
        if not isinstance(args, Mapping):
            raise InvalidValidatorSpec(f"{value['name']}: args must be a mapping")
        return cls(str(value["name"]), dict(args))


def resolve_validator(name: str) -> Any:
    """The validator class registered (or installed) as ``name``.

    Looks in guardrails-ai's registry; for ``llmops/*`` registers ours first; otherwise imports
    ``guardrails_ai.<last part of the name>`` (how the ``guardrails-ai-*`` PyPI packages are
    laid out), then, failing that, every installed ``guardrails_ai.*`` package. Only local
    imports: guardrails' own fallback (the hub registry) is not used.

    Raises:
        UnknownValidator: nothing registers ``name``.
    """
    _gr()
    from guardrails.validator_base import validators_registry

    key = name.removeprefix("hub://")
    if key.startswith(PREFIX) and key not in validators_registry:
        register_validators()
    if key in validators_registry:
        return validators_registry[key]
    for module in _candidate_modules(key):
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        if key in validators_registry:
            return validators_registry[key]
    raise UnknownValidator(
        f"no installed guardrails-ai validator is registered as {key!r} "
        f"(install its package, e.g. guardrails-ai-{key.rsplit('/', 1)[-1].replace('_', '-')})"
    )


def _candidate_modules(key: str) -> list[str]:
    first = "guardrails_ai." + key.rsplit("/", 1)[-1].replace("-", "_")
    try:
        import guardrails_ai  # type: ignore[import-untyped]
    except ImportError:
        return [first]
    rest = [
        f"guardrails_ai.{m.name}"
        for m in pkgutil.iter_modules(guardrails_ai.__path__)
        if m.name != "types" and f"guardrails_ai.{m.name}" != first
    ]
    return [first, *sorted(rest)]


def _version_of(cls: Any) -> str:
    """``<distribution>==<version>`` of the package defining ``cls``, when it is installed."""
    module = str(getattr(cls, "__module__", ""))
    parts = module.split(".")
    candidates = []
    if parts[0] == "guardrails_ai" and len(parts) > 1:
        candidates.append("guardrails-ai-" + parts[1].replace("_", "-"))
    candidates.append(parts[0].replace("_", "-"))
    for dist in candidates:
        try:
            return f"{dist}=={importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return f"{module}.{getattr(cls, '__qualname__', '?')}"


#: Failures recorded by the validators of the current :meth:`GuardRunner.run` (one list per
#: run, so concurrent runs on one runner never see each other's).
_FAILURES: contextvars.ContextVar[list[tuple[int, Any]]] = contextvars.ContextVar(
    "llmops_guardrails_failures"
)


class GuardRunner:
    """The validators a policy names, in one ``AsyncGuard``, built once per policy version.

    Args:
        specs: the validators (:class:`ValidatorSpec`, ``{name, args}`` dicts or names).

    Raises:
        UnknownValidator: a name resolves to nothing installed.
        InvalidValidatorSpec: a validator refuses its arguments.
    """

    def __init__(self, specs: Sequence[ValidatorSpec | Mapping[str, Any] | str]) -> None:
        gr = _gr()
        self.specs = [ValidatorSpec.from_value(s) for s in specs]
        # history_max_length=1: the guard keeps its last call (with the text) in memory; one
        # is the least it accepts.
        self._guard = gr.AsyncGuard(name="llmops-policy", history_max_length=1)
        self._versions: list[str] = []
        validators = []
        for index, spec in enumerate(self.specs):
            cls = resolve_validator(spec.name)
            try:
                validators.append(cls(**dict(spec.args), on_fail=_recorder(index)))
            except (TypeError, ValueError, AssertionError) as e:
                raise InvalidValidatorSpec(f"{spec.name}: {e}") from e
            self._versions.append(_version_of(cls))
        # One call: each Guard.use() replaces the validators set by the previous one.
        self._guard.use(*validators)

    async def run(self, text: str) -> list[Hit]:
        """Every failure of the validators on ``text``, as hits ordered by ``start``."""
        failures: list[tuple[int, Any]] = []
        token = _FAILURES.set(failures)
        try:
            await self._guard.validate(text)
        finally:
            _FAILURES.reset(token)
        hits: list[Hit] = []
        for index, result in failures:
            hits.extend(self._hits(index, result, len(text)))
        hits.sort(key=lambda h: (h.start, h.end, h.detector))
        return hits

    def _hits(self, index: int, result: Any, length: int) -> list[Hit]:
        meta = getattr(result, "metadata", None) or {}
        if HITS_KEY in meta:  # one of ours: the exact hits
            return [Hit(**h) for h in meta[HITS_KEY]]
        name, version = self.specs[index].name, self._versions[index]
        spans = [
            (max(0, min(s.start, length)), max(0, min(s.end, length)))
            for s in (getattr(result, "error_spans", None) or [])
        ]
        return [
            Hit(name, FAIL_KIND, s, max(s, e), 1.0, version) for s, e in (spans or [(0, length)])
        ]


def _recorder(index: int) -> Callable[[Any, Any], Any]:
    """An ``on_fail`` that records the failure for the running :meth:`GuardRunner.run`."""

    def on_fail(value: Any, fail_result: Any) -> Any:
        failures = _FAILURES.get(None)
        if failures is not None:
            failures.append((index, fail_result))
        return value  # no fix: the policy's action decides what happens to the text

    return on_fail


async def run_validators(
    text: str, specs: Sequence[ValidatorSpec | Mapping[str, Any] | str]
) -> list[Hit]:
    """Run the named validators on ``text`` (builds a :class:`GuardRunner`; keep one instead
    on a hot path: building it costs far more than running it)."""
    return await GuardRunner(specs).run(text)


def check_specs(specs: Sequence[ValidatorSpec | Mapping[str, Any] | str]) -> list[str]:
    """Why a policy's validators cannot run (empty: they can); for refusing a policy."""
    problems = []
    for spec in specs:
        try:
            GuardRunner([spec])
        except (UnknownValidator, InvalidValidatorSpec) as e:
            problems.append(str(e))
    return problems


__all__ = [
    "FAIL_KIND",
    "HITS_KEY",
    "PREFIX",
    "GuardRunner",
    "InvalidValidatorSpec",
    "UnknownValidator",
    "ValidatorSpec",
    "builtin_detectors",
    "check_specs",
    "detector_validator",
    "register_validators",
    "resolve_validator",
    "run_validators",
    "seal_guardrails",
]
