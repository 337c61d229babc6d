"""What an editor's account may do on the newsroom page."""

from __future__ import annotations

from enum import StrEnum


class EditorRole(StrEnum):
    EDITOR = "editor"  # reads, publishes, corrects, retracts, manages feeds
    VIEWER = "viewer"  # reads only

    @property
    def can_publish(self) -> bool:
        return self is EditorRole.EDITOR
