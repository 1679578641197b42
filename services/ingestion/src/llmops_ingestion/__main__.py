"""``python -m llmops_ingestion``: run the ingestion service."""

from llmops_ingestion.app import create_app
from llmops_ingestion.config import IngestionSettings
from llmops_shared.runtime import run


def main() -> None:
    """Entry point."""
    run(IngestionSettings(), create_app)


if __name__ == "__main__":
    main()
