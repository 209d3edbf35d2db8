"""ZIP codes to places, and distances between them, from the table shipped in ``data/``.

The table (``data/us_zip_codes.csv``, generated from the ``zipcodes`` package by
``data/generate_zip_table.py``) is read once per process; nothing is fetched at run time.
A state's centre is the mean position of its ZIP codes: ZIP codes are denser where people
live, so it leans toward the population rather than the empty middle of a state.
"""

import csv
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ZIP_TABLE = Path(__file__).resolve().parent / "data" / "us_zip_codes.csv"
EARTH_RADIUS_MILES = 3958.8


@dataclass(frozen=True)
class Place:
    state: str
    lat: float
    long: float


@cache
def _zip_table() -> dict[str, Place]:
    with open(ZIP_TABLE, newline="") as handle:
        return {
            row["zip"]: Place(row["state"], float(row["lat"]), float(row["long"]))
            for row in csv.DictReader(handle)
        }


@cache
def _state_centres() -> dict[str, Place]:
    sums: dict[str, list[float]] = {}
    for place in _zip_table().values():
        total = sums.setdefault(place.state, [0.0, 0.0, 0])
        total[0] += place.lat
        total[1] += place.long
        total[2] += 1
    return {
        state: Place(state, round(lat / n, 4), round(long / n, 4))
        for state, (lat, long, n) in sums.items()
    }


def zip_place(zip_code: str) -> Place | None:
    """The place of a 5-digit ZIP code (ZIP+4 accepted), or None if it does not exist."""
    return _zip_table().get((zip_code or "").strip()[:5])


def state_centre(state: str) -> Place | None:
    return _state_centres().get(state)


def distance_miles(a: Place, b: Place) -> int:
    """Great-circle distance, rounded to whole miles so that comparisons are exact."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlong = math.radians(b.long - a.long)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlong / 2) ** 2
    return round(2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h))))
