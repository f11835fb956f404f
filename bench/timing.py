"""What the benchmark scripts share: taking their measurements in turn."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence


def round_robin(runs: int, measures: Sequence[Callable[[], float]]) -> list[float]:
    """Medians of several measurements taken in turn, so drift hits all alike."""
    samples: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for sample, measure in zip(samples, measures, strict=True):
            sample.append(measure())
    return [statistics.median(sample) for sample in samples]
