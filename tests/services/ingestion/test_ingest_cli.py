"""``llmops ingest`` without a server: which files become which documents, and the usage
errors (the round trip through NATS is in test_ingestion_nats.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmops.cli import app
from llmops.ingest import NO_ANSWER, UsageError, collect


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_ids_are_relative_paths_without_extension_and_file_arguments_their_stem(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    tree(
        docs,
        {
            "guide/install.md": "x",
            "guide/page.HTML": "x",
            "notes.txt": "x",
            "data.jsonl": "x",
            "manual.pdf": "x",
            "image.png": "x",
            ".hidden/secret.txt": "x",
            ".draft.md": "x",
        },
    )
    tree(tmp_path, {"single.markdown": "x"})
    items, skipped = collect([docs, tmp_path / "single.markdown"])
    assert [(i.document_id, i.media_type) for i in items] == [
        ("data", "application/jsonl"),
        ("guide/install", "text/markdown"),
        ("guide/page", "text/html"),
        ("manual", "application/pdf"),
        ("notes", "text/plain"),
        ("single", "text/markdown"),
    ]
    assert skipped == [docs / "image.png"]


def test_two_files_with_one_id_and_unknown_file_arguments_are_usage_errors(
    tmp_path: Path,
) -> None:
    tree(tmp_path, {"a.md": "x", "a.txt": "x", "b.png": "x"})
    with pytest.raises(UsageError, match="would both be document 'a'"):
        collect([tmp_path])
    with pytest.raises(UsageError, match="unknown file type"):
        collect([tmp_path / "b.png"])
    with pytest.raises(UsageError, match="no such file"):
        collect([tmp_path / "missing"])


def test_the_command_exits_2_on_bad_arguments_and_3_without_a_server(tmp_path: Path) -> None:
    tree(tmp_path, {"a.txt": "some text", "b.png": "x"})
    runner = CliRunner()
    bad = runner.invoke(app, ["ingest", str(tmp_path / "b.png"), "--tenant", "acme"])
    assert bad.exit_code == 2
    assert "unknown file type" in bad.output
    bad_tenant = runner.invoke(app, ["ingest", str(tmp_path), "--tenant", "a b"])
    assert bad_tenant.exit_code == 2
    bad_acl = runner.invoke(app, ["ingest", str(tmp_path), "--tenant", "acme", "--acl", ""])
    assert bad_acl.exit_code == 2
    nothing = runner.invoke(
        app,
        ["ingest", str(tmp_path / "a.txt"), "--tenant", "acme", "--nats-url", "nats://127.0.0.1:1"],
    )
    assert nothing.exit_code == NO_ANSWER
    assert "ingest failed" in nothing.output
