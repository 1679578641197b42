# syntax=docker/dockerfile:1
#
# One image for all six llmops services; the service is chosen when the container starts:
#
#   docker build -t llmops .
#   docker run llmops audit            # python -m llmops_audit
#   docker run -e SERVICE=costs llmops  # the same, chosen by environment
#   docker run llmops llmops --help     # anything else runs as a command (e.g. the llmops CLI)
#
# Needs BuildKit (the default builder since Docker 23): cache mounts and heredocs below.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# build: resolve nothing, install the locked workspace into a self-contained venv at /app/.venv
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ARG UV_VERSION=0.13.9
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN pip install "uv==${UV_VERSION}"

# Compile bytecode now: at run time the root filesystem is read-only and nothing is written.
# The venv lives at the path it will have in the runtime stage (its scripts hard-code it).
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# Third-party dependencies first, from the lock and the members' metadata only, so editing
# source code does not reinstall them.
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY shared/pyproject.toml shared/
COPY client/pyproject.toml client/
COPY services/ingestion/pyproject.toml services/ingestion/
COPY services/retrieval/pyproject.toml services/retrieval/
COPY services/guardrails/pyproject.toml services/guardrails/
COPY services/evaluation/pyproject.toml services/evaluation/
COPY services/costs/pyproject.toml services/costs/
COPY services/audit/pyproject.toml services/audit/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-editable --no-install-workspace

# Then the workspace members themselves, as regular (non-editable) installs: the runtime stage
# needs the venv only, not /src.
COPY contracts/ contracts/
COPY shared/ shared/
COPY client/ client/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-editable

# ---------------------------------------------------------------------------------------------
# runtime: the venv, two small scripts, a non-root user
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="llmops" \
      org.opencontainers.image.description="llmops services (ingestion, retrieval, guardrails, evaluation, costs, audit); the service is the first argument"

RUN groupadd --system --gid 10001 llmops \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin llmops

COPY --from=build /app/.venv /app/.venv

# The entrypoint: a service name runs that service; any other argument list runs as a command.
COPY --chmod=0755 <<'EOF' /usr/local/bin/llmops-entrypoint
#!/bin/sh
set -eu
services="ingestion retrieval guardrails evaluation costs audit"
service="${SERVICE:-}"
if [ "$#" -gt 0 ]; then
    case " $services " in
        *" $1 "*) service="$1"; shift ;;
        *) exec "$@" ;;
    esac
fi
case " $services " in
    *" $service "*) ;;
    *)
        echo "usage: <image> {ingestion|retrieval|guardrails|evaluation|costs|audit}" >&2
        echo "       (or set SERVICE; got '${service}')" >&2
        exit 64
        ;;
esac
# exec: the service is PID 1 and receives SIGTERM itself, so it drains before exiting.
exec python -m "llmops_${service}" "$@"
EOF

# The health probe: GET <path> (default /healthz) on this container's service health port.
COPY --chmod=0755 <<'EOF' /usr/local/bin/llmops-healthcheck
#!/usr/bin/env python3
"""llmops-healthcheck [PATH]: exit 0 when the service in this container answers 200 on PATH.

The service is $SERVICE, else found among the running processes (``python -m llmops_<name>``);
the port is ``LLMOPS_<NAME>_HEALTH_PORT``, else the service's default.
"""

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {
    "ingestion": 8101,
    "retrieval": 8102,
    "guardrails": 8103,
    "evaluation": 8104,
    "costs": 8105,
    "audit": 8106,
}


def running_service() -> str:
    name = os.environ.get("SERVICE", "")
    if name in DEFAULT_PORTS:
        return name
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        for arg in argv:
            if arg.startswith(b"llmops_") and arg[7:].decode() in DEFAULT_PORTS:
                return arg[7:].decode()
    sys.exit("llmops-healthcheck: no llmops service runs in this container")


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
    name = running_service()
    prefix = f"LLMOPS_{name.upper()}_"
    port = int(os.environ.get(prefix + "HEALTH_PORT") or DEFAULT_PORTS[name])
    host = os.environ.get(prefix + "HEALTH_HOST") or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    # No proxies: an HTTP(S)_PROXY in the container must not capture a loopback probe.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{host}:{port}{path}", timeout=4) as response:
            sys.exit(0 if response.status == 200 else 1)
    except (urllib.error.URLError, OSError) as exc:
        sys.exit(f"llmops-healthcheck: {name} {path}: {exc}")


main()
EOF

# In a container the health server must listen on every interface, or probes from outside
# (Docker, Kubernetes, Prometheus) cannot reach it; the code's default is loopback.
ARG SERVICE=""
ENV SERVICE=${SERVICE} \
    PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/tmp/.cache \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    LLMOPS_INGESTION_HEALTH_HOST=0.0.0.0 \
    LLMOPS_RETRIEVAL_HEALTH_HOST=0.0.0.0 \
    LLMOPS_GUARDRAILS_HEALTH_HOST=0.0.0.0 \
    LLMOPS_EVALUATION_HEALTH_HOST=0.0.0.0 \
    LLMOPS_COSTS_HEALTH_HOST=0.0.0.0 \
    LLMOPS_AUDIT_HEALTH_HOST=0.0.0.0

# /app/.llmops: where relative default paths (e.g. sqlite:///.llmops/audit.db) land when the
# container runs without a read-only root filesystem; mount a volume there to keep them.
WORKDIR /app
RUN mkdir -p /app/.llmops && chown 10001:10001 /app/.llmops

USER 10001:10001

# Health/metrics ports of ingestion, retrieval, guardrails, evaluation, costs, audit.
EXPOSE 8101 8102 8103 8104 8105 8106

STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["llmops-healthcheck", "/healthz"]

ENTRYPOINT ["llmops-entrypoint"]
CMD []
