"""Run every benchmark: ``python -m bench`` (``make bench``)."""

from bench import (
    bench_audit,
    bench_costs,
    bench_guardrails,
    bench_guardrails_checks,
    bench_guardrails_injection,
    bench_guardrails_quality,
    bench_retrieval,
    bench_wire,
)


def main() -> None:
    """Run all benchmarks in turn: speed against raw baselines, detector and retrieval quality."""
    bench_wire.main()
    bench_audit.main()
    bench_costs.main()
    bench_guardrails.main()
    bench_guardrails_checks.main()
    bench_guardrails_injection.main()
    bench_guardrails_quality.main()
    bench_retrieval.main()


if __name__ == "__main__":
    main()
