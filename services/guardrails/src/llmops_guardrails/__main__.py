"""``python -m llmops_guardrails``: run the guardrails service."""

from llmops_guardrails.app import create_app
from llmops_guardrails.config import GuardrailsSettings
from llmops_shared.runtime import run


def main() -> None:
    """Entry point."""
    run(GuardrailsSettings(), create_app)


if __name__ == "__main__":
    main()
