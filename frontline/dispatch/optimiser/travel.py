"""Travel distances and times between points, from a pluggable provider.

A provider answers one question, ``matrix(points) -> (distance_m, duration_min)``,
two square integer matrices in the order of ``points``. The default estimates from
straight-line distance, so planning works offline; ``OsrmProvider`` asks an OSRM
server for road distances when one is configured.
"""

from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from frontline.dispatch.optimiser.model import Point, ProblemError

Matrices = tuple[np.ndarray, np.ndarray]
EARTH_RADIUS_M = 6_371_000.0


class TravelProvider(Protocol):
    """Anything that can give travel between points (latitude, longitude)."""

    def matrix(self, points: Sequence[Point]) -> Matrices: ...


@dataclass(frozen=True)
class HaversineProvider:
    """Great-circle distance times a road factor, at a constant city speed.

    Durations round up to whole minutes: a leg never takes less than it says, so a
    plan built on these numbers is not optimistic by rounding.
    """

    road_factor: float = 1.3
    speed_kmh: float = 30.0

    def matrix(self, points: Sequence[Point]) -> Matrices:
        coords = np.radians(np.asarray(points, dtype=float).reshape(-1, 2))
        lat, lon = coords[:, 0:1], coords[:, 1:2]
        a = (
            np.sin((lat - lat.T) / 2) ** 2
            + np.cos(lat) * np.cos(lat.T) * np.sin((lon - lon.T) / 2) ** 2
        )
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1))) * self.road_factor
        minutes = np.ceil(metres / (self.speed_kmh * 1000 / 60) - 1e-9)
        return np.rint(metres).astype(np.int64), minutes.astype(np.int64)


@dataclass(frozen=True)
class FunctionProvider:
    """Travel from a function of two points: benchmarks and tests with exact numbers."""

    leg: Callable[[Point, Point], tuple[int, int]]

    def matrix(self, points: Sequence[Point]) -> Matrices:
        n = len(points)
        distance = np.zeros((n, n), dtype=np.int64)
        duration = np.zeros((n, n), dtype=np.int64)
        for i, a in enumerate(points):
            for j, b in enumerate(points):
                if i != j:
                    distance[i, j], duration[i, j] = self.leg(a, b)
        return distance, duration


@dataclass(frozen=True)
class OsrmProvider:
    """Road distances and times from OSRM's table service (``/table/v1/driving/``).

    One request for the whole day; a pair OSRM cannot route gets ``unroutable``
    minutes and metres so the solver treats it as out of reach.
    """

    base_url: str
    timeout: float = 30.0
    unroutable: int = 10**7

    def matrix(self, points: Sequence[Point]) -> Matrices:
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        url = f"{self.base_url.rstrip('/')}/table/v1/driving/{coords}?annotations=distance,duration"
        if not url.startswith(("http://", "https://")):
            raise ProblemError("", f"OSRM URL must be http(s): {self.base_url!r}")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310
                body = json.load(response)
        except (OSError, ValueError) as exc:
            raise ProblemError("", f"OSRM table request failed: {exc}")
        if body.get("code") != "Ok":
            raise ProblemError("", f"OSRM answered {body.get('code')}: {body.get('message', '')}")
        return self._to_int(body["distances"], 1.0), self._to_int(body["durations"], 1 / 60)

    def _to_int(self, rows: list[list[float | None]], scale: float) -> np.ndarray:
        matrix = np.array(
            [
                [self.unroutable if v is None else math.ceil(v * scale - 1e-9) for v in r]
                for r in rows
            ],
            dtype=np.int64,
        )
        np.fill_diagonal(matrix, 0)
        return matrix


@dataclass
class TravelMatrix:
    """Travel between the distinct points of a day, indexed by point."""

    index: dict[Point, int]
    distance: np.ndarray
    duration: np.ndarray

    @classmethod
    def build(cls, points: Sequence[Point], provider: TravelProvider) -> TravelMatrix:
        index: dict[Point, int] = {}
        for point in points:
            index.setdefault(point, len(index))
        distance, duration = provider.matrix(list(index))
        if distance.shape != (len(index), len(index)) or duration.shape != distance.shape:
            raise ProblemError("", "travel provider returned matrices of the wrong size")
        return cls(index, distance.astype(np.int64), duration.astype(np.int64))

    def leg(self, a: Point, b: Point) -> tuple[int, int]:
        """(metres, minutes) from a to b."""
        i, j = self.index[a], self.index[b]
        return int(self.distance[i, j]), int(self.duration[i, j])
