"""Every setting is documented in .env.example and read somewhere; nothing documented is unused."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from pydantic_settings import BaseSettings

import tradeloom.settings

REPO = Path(__file__).resolve().parent.parent


def _settings_classes() -> list[type[BaseSettings]]:
    classes = []
    for module_info in pkgutil.iter_modules(tradeloom.settings.__path__):
        module = importlib.import_module(f"tradeloom.settings.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseSettings) and value is not BaseSettings \
                    and value.__module__ == module.__name__:
                classes.append(value)
    return classes


def _env_names(cls: type[BaseSettings]) -> dict[str, str]:
    prefix = cls.model_config.get("env_prefix", "")
    return {(field.alias or f"{prefix}{name}").upper(): name for name, field in cls.model_fields.items()}


def _documented() -> set[str]:
    text = (REPO / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def _code_reading_settings() -> str:
    """All of tradeloom's code but the lines that declare settings fields."""
    declaration = re.compile(r"^\s+[a-z_0-9]+: .*(Field\(|=)")
    lines = []
    for path in (REPO / "tradeloom").rglob("*.py"):
        in_settings = "settings" in path.relative_to(REPO / "tradeloom").parts
        lines += [line for line in path.read_text().splitlines() if not (in_settings and declaration.match(line))]
    return "\n".join(lines)


def test_settings_classes_exist():
    assert {c.__name__ for c in _settings_classes()} >= {"PlatformSettings", "MarketDataSettings"}


def test_every_setting_is_documented_and_every_documented_setting_exists():
    read = {env for cls in _settings_classes() for env in _env_names(cls)}
    documented = _documented()
    assert sorted(read - documented) == [], "settings missing from .env.example"
    assert sorted(documented - read) == [], "documented in .env.example but not a setting"


def test_every_setting_is_read_somewhere():
    code = _code_reading_settings()
    unused = [
        f"{cls.__name__}.{name}"
        for cls in _settings_classes()
        for name in cls.model_fields
        if not re.search(rf"\.{name}\b|\b{name}=|[\"']{name}[\"']", code)
    ]
    assert unused == []
