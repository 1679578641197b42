"""Run every benchmark: ``python -m bench`` (``make bench``)."""

from bench import bench_audit, bench_costs, bench_wire


def main() -> None:
    """Run all benchmarks in turn."""
    bench_wire.main()
    bench_audit.main()
    bench_costs.main()


if __name__ == "__main__":
    main()
