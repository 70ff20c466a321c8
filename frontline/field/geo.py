"""Distances on the earth's surface (pure)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_000.0


def haversine_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres between two (lat, lon) points in degrees."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp = p2 - p1
    dl = math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def travel_minutes(distance_m: float, *, road_factor: float = 1.3, speed_kmh: float = 30.0) -> int:
    """A rough road time from a straight-line distance (city traffic by default)."""
    return max(0, round(distance_m * road_factor / 1000.0 / speed_kmh * 60.0))
