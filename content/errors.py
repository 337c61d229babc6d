"""Errors the core raises; adapters translate platform failures into these."""

from __future__ import annotations


class CoreError(Exception):
    """Base of the errors the core raises on purpose."""


class StoryFileError(CoreError):
    """A story file or payload that breaks the schema; nothing of it is written."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}")


class ConfigurationError(CoreError):
    """A setting the platform refuses (a wrong token): no retry helps; the process stops, naming it."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")
