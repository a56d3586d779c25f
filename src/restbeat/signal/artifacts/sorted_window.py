"""The last n values of a series kept in arrival order and sorted: O(log n) median and quartile deviation."""

from __future__ import annotations

import bisect
from collections import deque


class SortedWindow:
    """The last ``size`` values in insertion order and sorted, for O(log n) quartiles."""

    __slots__ = ("_order", "_positions", "_size", "_sorted", "count")

    def __init__(self, size: int) -> None:
        self._size = size
        self._order: deque[float] = deque()
        self._sorted: list[float] = []
        self.count = 0
        # (index, fraction) of Q1, median and Q3 for every possible length, numpy's linear interpolation
        self._positions = [
            tuple((int(q * (n - 1)), q * (n - 1) - int(q * (n - 1))) for q in (0.25, 0.5, 0.75))
            for n in range(size + 1)
        ]

    def add(self, value: float) -> None:
        self._order.append(value)
        bisect.insort(self._sorted, value)
        if self.count == self._size:
            del self._sorted[bisect.bisect_left(self._sorted, self._order.popleft())]
        else:
            self.count += 1

    def _at(self, index: int, fraction: float) -> float:
        values = self._sorted
        low = values[index]
        return low + fraction * (values[index + 1] - low) if fraction else low

    def median(self) -> float:
        index, fraction = self._positions[self.count][1]
        return self._at(index, fraction)

    def quartile_deviation(self) -> float:
        (i1, f1), _, (i3, f3) = self._positions[self.count]
        return (self._at(i3, f3) - self._at(i1, f1)) / 2.0
