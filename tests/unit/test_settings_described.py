"""Every setting of every service says what it is: operators read these descriptions."""

from __future__ import annotations

import importlib
import inspect

import pytest

from llmops.dev import SERVICES
from llmops_shared.settings import ServiceSettings


def service_settings() -> list[type[ServiceSettings]]:
    """The settings class of each service (``llmops_<name>.config``)."""
    found = []
    for name in SERVICES:
        config = importlib.import_module(f"llmops_{name}.config")
        found += [
            cls
            for _, cls in inspect.getmembers(config, inspect.isclass)
            if issubclass(cls, ServiceSettings) and cls is not ServiceSettings
        ]
    return found


def test_every_service_has_its_settings_class() -> None:
    assert {cls.service for cls in service_settings()} == set(SERVICES)


@pytest.mark.parametrize("settings", service_settings(), ids=lambda cls: cls.service)
def test_every_setting_has_a_description(settings: type[ServiceSettings]) -> None:
    missing = [name for name, field in settings.model_fields.items() if not field.description]
    assert missing == [], f"{settings.__name__}: give these a Field(description=...)"
