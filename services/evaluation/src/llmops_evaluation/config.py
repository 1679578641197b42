"""Evaluation service settings (env prefix ``LLMOPS_EVALUATION_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llmops_shared.settings import ServiceSettings


class EvaluationSettings(ServiceSettings):
    """Settings of the evaluation service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_EVALUATION_")
    service: ClassVar[str] = "evaluation"
    default_health_port: ClassVar[int] = 8104

    golden_sets_dir: Path = Field(
        default=Path(".llmops/golden"),
        description="Directory of golden sets: '<name>.jsonl', or '<name>@<version>.jsonl'.",
    )
    database_url: str = Field(
        default="sqlite:///.llmops/evaluation.db",
        description="SQLAlchemy URL of the run store: a SQLite file (default) or postgresql://...",
    )
    run_eval_durable: str = Field(
        default="evaluation-run-eval", description="Durable consumer name of the RunEval commands."
    )
