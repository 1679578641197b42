"""Where the audit service's signing key may come from (llmops_audit.app.signing_key).

A key beside the database would let whoever copies the data directory sign a rewritten chain:
outside ``llmops dev`` such a key file is refused, and so is starting without a key at all.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import structlog.testing

from llmops_audit.app import DEVELOPMENT_KEY_FILE, SigningKeyRefused, signing_key
from llmops_audit.checkpoints import Signer
from llmops_audit.config import AuditSettings

SEED = "66" * 32


def settings(tmp_path: Path, **values: object) -> AuditSettings:
    return AuditSettings(database_url=f"sqlite:///{tmp_path / 'data' / 'audit.db'}", **values)


def test_a_key_from_the_secret_setting_is_used_as_is(tmp_path: Path) -> None:
    signer = signing_key(settings(tmp_path, signing_key=SEED))
    assert signer.public_key == Signer.from_text(SEED).public_key


def test_a_key_file_outside_the_data_directory_is_used(tmp_path: Path) -> None:
    secret = tmp_path / "secrets" / "audit.key"
    secret.parent.mkdir()
    secret.write_bytes(Signer.from_text(SEED).pem())
    assert signing_key(settings(tmp_path, signing_key_file=secret)).key_id == (
        Signer.from_text(SEED).key_id
    )


@pytest.mark.parametrize("where", ["database directory", "data dir", "symlink into data"])
def test_a_key_file_inside_the_data_directory_is_refused(tmp_path: Path, where: str) -> None:
    data = tmp_path / "data"
    suite = tmp_path / "suite"
    for d in (data, suite):
        d.mkdir()
    inside = (data if where != "data dir" else suite) / "nested" / "audit.key"
    inside.parent.mkdir()
    inside.write_text(SEED)
    path = inside
    if where == "symlink into data":
        path = tmp_path / "link.key"
        path.symlink_to(inside)
    with pytest.raises(SigningKeyRefused, match="inside the data directory"):
        signing_key(settings(tmp_path, signing_key_file=path, data_dir=suite))


def test_no_key_at_all_is_refused_with_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyRefused, match="LLMOPS_AUDIT_SIGNING_KEY"):
        signing_key(settings(tmp_path))


@pytest.mark.parametrize("bad", ["not a key", "00" * 16])
def test_a_malformed_key_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SigningKeyRefused, match="cannot use the checkpoint signing key"):
        signing_key(settings(tmp_path, signing_key=bad))


def test_a_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyRefused, match="cannot use"):
        signing_key(settings(tmp_path, signing_key_file=tmp_path / "nowhere.key"))


def test_development_creates_a_key_in_the_data_directory_loudly_and_keeps_it(
    tmp_path: Path,
) -> None:
    dev = settings(tmp_path, development_key=True, data_dir=tmp_path / "data")
    with structlog.testing.capture_logs() as logs:
        first = signing_key(dev)
    path = tmp_path / "data" / DEVELOPMENT_KEY_FILE
    assert path.is_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    warned = [e for e in logs if e["log_level"] == "warning"]
    assert [e["path"] for e in warned] == [str(path)]
    assert "DEVELOPMENT SIGNING KEY" in warned[0]["event"]
    assert signing_key(dev).public_key == first.public_key  # the same key on the next start
    # Without the development flag the very same file is refused.
    with pytest.raises(SigningKeyRefused, match="inside the data directory"):
        signing_key(settings(tmp_path, signing_key_file=path))
