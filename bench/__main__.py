"""Run every benchmark: ``python -m bench`` (``make bench``)."""

from bench import bench_wire


def main() -> None:
    """Run all benchmarks in turn."""
    bench_wire.main()


if __name__ == "__main__":
    main()
