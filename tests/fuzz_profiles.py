"""Hypothesis profiles for the property and fuzz tests: short and bounded in ``make test``, long in ``make fuzz``.

``HYPOTHESIS_PROFILE=fuzz`` (set by ``make fuzz``) runs each property many more times. No example database
is kept: runs are reproducible from the seed Hypothesis prints on a failure.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "examples"]

_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]

settings.register_profile("test", max_examples=100, deadline=None, database=None, suppress_health_check=_SUPPRESSED)
settings.register_profile("fuzz", max_examples=20_000, deadline=None, database=None, suppress_health_check=_SUPPRESSED)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "test")
settings.load_profile(PROFILE)


def examples(quick: int, scale: int = 100) -> int:
    """``quick`` examples in ``make test``; ``scale`` times as many in a fuzz campaign (fewer for slow ones)."""
    return quick * scale if PROFILE == "fuzz" else quick
