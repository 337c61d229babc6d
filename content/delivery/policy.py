"""How often and how late a failed push is tried again."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 2.0
    max_delay: float = 600.0

    def delay(self, attempts: int) -> float:
        # Exponential with full jitter, so a burst of failures does not come back at once.
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))
        return random.uniform(ceiling / 2, ceiling)
