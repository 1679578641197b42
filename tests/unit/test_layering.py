"""The import rules hold, and `make lint` would catch a service importing another service."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
SRC_DIRS = [
    ROOT / "contracts/src",
    ROOT / "shared/src",
    ROOT / "client/src",
    *sorted((ROOT / "services").glob("*/src")),
]


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter with the project's contracts over a copy of the sources in ``tree``."""
    env_paths = [str(tree / d.relative_to(ROOT)) for d in SRC_DIRS]
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tree,
        env={"PYTHONPATH": ":".join(env_paths), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )


def _copy_sources(tmp_path: Path) -> Path:
    for src in SRC_DIRS:
        shutil.copytree(
            src, tmp_path / src.relative_to(ROOT), ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def test_the_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(_copy_sources(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_service_importing_another_service_fails_lint(tmp_path: Path) -> None:
    tree = _copy_sources(tmp_path)
    probe = tree / "services/costs/src/llmops_costs/leak.py"
    probe.write_text("from llmops_audit.service import AuditService  # forbidden\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "Services never import each other BROKEN" in result.stdout
    assert "llmops_costs.leak -> llmops_audit.service" in result.stdout


def test_make_lint_runs_import_linter() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lint_block = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "lint-imports" in lint_block


def test_contracts_import_only_pydantic_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"pydantic", "pydantic_core", "llmops_contracts"}
    for path in (ROOT / "contracts/src/llmops_contracts").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, f"{path.name} imports {roots}"


def test_no_subject_is_spelled_outside_contracts() -> None:
    offenders = []
    for base in ("shared", "client", "services"):
        for path in (ROOT / base).rglob("*.py"):
            text = path.read_text()
            for prefix in (
                '"llmops.evt.',
                '"llmops.cmd.',
                '"llmops.rpc.',
                '"llmops.audit.',
                '"llmops.dlq.',
            ):
                if prefix in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {prefix}")
    assert not offenders
