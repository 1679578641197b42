"""Fail on wall-clock reads outside the clock port (``make lint``).

Business time comes from ``llmops_shared.clock`` only (see its docstring): a budget window, a
rollup hour or a retention cut-off computed from ``datetime.now()`` at a call site cannot be
tested at the last second of a year, and a test that reads it depends on the day it runs. This
check walks every Python file of the repository and fails on a call to

    datetime.now()  datetime.utcnow()  datetime.today()  date.today()  time.time()  time.time_ns()

however it was imported (``import datetime as dt``, ``from time import time`` ...), except in the
clock module itself and on a line that says why it is justified: ``# clock-ok: <reason>``.
Monotonic timers (``time.monotonic()``, ``time.perf_counter()``) are durations and stay allowed.

ruff's DTZ rules catch a naive ``datetime.now()``; this catches the aware ``datetime.now(UTC)``
too, which is just as much a hidden clock.

Usage: ``python tools/check_clock.py [ROOT ...]`` (default: the repository); exit 1 on findings.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

#: Fully qualified callables that read the wall clock.
FORBIDDEN = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
    }
)
#: The one module allowed to read the wall clock.
CLOCK_MODULE = Path("shared/src/llmops_shared/clock.py")
#: A justified exception names its reason.
ESCAPE = re.compile(r"#\s*clock-ok:\s*\S")
#: Not ours, or generated.
SKIP_DIRS = frozenset(
    {".venv", ".tools", ".git", "node_modules", "build", "dist", ".llmops", "__pycache__"}
)


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound by imports, mapped to what they name (``dt`` -> ``datetime.datetime``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attribute accesses on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def findings(path: Path, source: str) -> Iterator[tuple[int, str]]:
    """``(line, qualified name)`` of every unjustified wall-clock read in one file."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError:
        return  # not ours to judge here; ruff reports it
    aliases = _aliases(tree)
    lines = source.splitlines()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        dotted = _dotted(node.func)
        if dotted is None:
            continue
        head, _, rest = dotted.partition(".")
        qualified = aliases.get(head, head) + (f".{rest}" if rest else "")
        if qualified not in FORBIDDEN:
            continue
        span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        if any(ESCAPE.search(line) for line in span):
            continue
        yield node.lineno, qualified


def python_files(root: Path) -> Iterator[Path]:
    """Every ``.py`` file below ``root``, skipping virtual environments and caches."""
    for path in sorted(root.rglob("*.py")):
        if not SKIP_DIRS.intersection(path.relative_to(root).parts):
            yield path


def check(root: Path) -> list[str]:
    """One message per unjustified wall-clock read below ``root``."""
    problems = []
    for path in python_files(root):
        relative = path.relative_to(root)
        if relative == CLOCK_MODULE:
            continue
        for line, name in findings(path, path.read_text(encoding="utf-8")):
            problems.append(
                f"{relative}:{line}: {name}() reads the wall clock: take an injected "
                "llmops_shared.clock.Clock (or say `# clock-ok: <why>` on the line)"
            )
    return problems


def main(argv: list[str]) -> int:
    """Check the given roots (default: the repository holding this file)."""
    roots = [Path(a).resolve() for a in argv] or [Path(__file__).resolve().parent.parent]
    problems = [p for root in roots for p in check(root)]
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} wall-clock read(s) outside the clock port", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
