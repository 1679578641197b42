"""``python -m llmops_retrieval``: run the retrieval service."""

from llmops_retrieval.app import create_app
from llmops_retrieval.config import RetrievalSettings
from llmops_shared.runtime import run


def main() -> None:
    """Entry point."""
    run(RetrievalSettings(), create_app)


if __name__ == "__main__":
    main()
