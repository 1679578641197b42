"""``python -m llmops_audit``: run the audit service."""

from llmops_audit.app import create_app
from llmops_audit.config import AuditSettings
from llmops_shared.runtime import run


def main() -> None:
    """Entry point."""
    run(AuditSettings(), create_app)


if __name__ == "__main__":
    main()
