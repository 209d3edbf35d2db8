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


# --- Time zones -------------------------------------------------------------------------------
# The ZIP table has no time zone, so a place's zone is its state's, corrected by longitude (and
# latitude) in the states a zone line crosses. The corrections follow the county lines only
# roughly: a ZIP code within a county or so of a zone line may get its neighbour's zone.

EASTERN, CENTRAL, MOUNTAIN, PACIFIC = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
)  # fmt: skip
STATE_TIME_ZONES = {
    **dict.fromkeys(
        ("CT", "DC", "DE", "GA", "MA", "MD", "ME", "NC", "NH", "NJ", "NY", "OH", "PA", "RI",
         "SC", "VA", "VT", "WV", "FL", "IN", "KY", "MI", "TN"),
        EASTERN,
    ),
    **dict.fromkeys(
        ("AL", "AR", "IA", "IL", "LA", "MN", "MO", "MS", "OK", "WI", "TX", "KS", "NE", "ND", "SD"),
        CENTRAL,
    ),
    **dict.fromkeys(("CO", "MT", "NM", "UT", "WY", "ID"), MOUNTAIN),
    **dict.fromkeys(("CA", "NV", "WA", "OR"), PACIFIC),
    "AZ": "America/Phoenix",  # no daylight saving time
    "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico",
    "VI": "America/St_Thomas",
    "GU": "Pacific/Guam",
    "MP": "Pacific/Saipan",
    "AS": "Pacific/Pago_Pago",
}  # fmt: skip


def _split_state_zone(place: Place) -> str | None:
    """The other zone of a state that a zone line crosses, where ``place`` lies beyond it."""
    state, lat, long = place.state, place.lat, place.long
    corrections = {
        "FL": long < -85.0,  # the panhandle west of the Apalachicola
        "IN": long < -86.9 and (lat > 41.0 or lat < 38.4),  # Gary's and Evansville's corners
        "KY": long < -85.9,  # western Kentucky
        "TN": long < -85.4,  # Middle and West Tennessee
        "MI": long < -87.6 and lat > 45.0,  # the Upper Peninsula's Wisconsin border
        "TX": long < -104.8,  # El Paso and Hudspeth
        "KS": long < -101.4,  # the four western counties
        "NE": long < -101.2,  # the panhandle
        "ND": long < -101.0 and lat < 47.0,  # the south-west
        "SD": long < -100.4,  # west river
        "ID": lat > 45.6,  # the panhandle
        "OR": long > -117.9 and lat < 44.4,  # Malheur County
        "AK": long < -169.0,  # the Aleutians west of Umnak
    }
    if not corrections.get(state):
        return None
    return {
        "FL": CENTRAL, "IN": CENTRAL, "KY": CENTRAL, "TN": CENTRAL, "MI": CENTRAL,
        "TX": MOUNTAIN, "KS": MOUNTAIN, "NE": MOUNTAIN, "ND": MOUNTAIN, "SD": MOUNTAIN,
        "ID": PACIFIC, "OR": "America/Boise", "AK": "America/Adak",
    }[state]  # fmt: skip


def place_time_zone(place: Place) -> str:
    """The IANA time zone ("America/Chicago") of a place from the ZIP table."""
    return _split_state_zone(place) or STATE_TIME_ZONES.get(place.state, EASTERN)


def zip_time_zone(zip_code: str) -> str | None:
    """The time zone of a ZIP code, or None if it does not exist."""
    place = zip_place(zip_code)
    return place_time_zone(place) if place else None


def state_time_zone(state: str) -> str | None:
    """The time zone most of a state keeps (for a campaign known by its state only)."""
    return STATE_TIME_ZONES.get(state)


# The zones a host may choose for a remote shift.
TIME_ZONE_CHOICES = (
    ("America/New_York", "Eastern"),
    ("America/Chicago", "Central"),
    ("America/Denver", "Mountain"),
    ("America/Phoenix", "Arizona"),
    ("America/Los_Angeles", "Pacific"),
    ("America/Anchorage", "Alaska"),
    ("Pacific/Honolulu", "Hawaii"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico, Virgin Islands)"),
    ("Pacific/Guam", "Chamorro (Guam, Northern Mariana Islands)"),
    ("Pacific/Pago_Pago", "Samoa"),
)
