"""``python -m llmops_evaluation``: run the evaluation service."""

from llmops_evaluation.app import create_app
from llmops_evaluation.config import EvaluationSettings
from llmops_shared.runtime import run


def main() -> None:
    """Entry point."""
    run(EvaluationSettings(), create_app)


if __name__ == "__main__":
    main()
