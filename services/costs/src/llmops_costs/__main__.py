"""``python -m llmops_costs``: run the costs service."""

from llmops_costs.app import create_app
from llmops_costs.config import CostsSettings
from llmops_shared.runtime import run


def main() -> None:
    """Entry point."""
    run(CostsSettings(), create_app)


if __name__ == "__main__":
    main()
