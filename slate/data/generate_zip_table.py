"""Regenerate ``us_zip_codes.csv`` from the ``zipcodes`` package (PyPI, MIT licence).

Run by hand when the table should be refreshed (``pip install "zipcodes>=3,<4"`` first);
Slate itself reads only the CSV, so nothing is fetched at run time. Kept: active ZIP codes
in the states, DC and territories Slate knows (``slate.geography``), with coordinates;
military codes (APO/FPO, no coordinates) are left out.
"""

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from slate.geography import US_STATE_CODES  # noqa: E402


def main() -> None:
    # Not a dependency of Slate: installed by hand only to regenerate the table.
    import zipcodes

    rows = sorted(
        (z["zip_code"], z["state"], z["lat"], z["long"])
        for z in zipcodes.list_all()
        if z["active"]
        and z["state"] in US_STATE_CODES
        and z["zip_code_type"] != "MILITARY"
        and (z["lat"], z["long"]) != ("0", "0")
    )
    with open(HERE / "us_zip_codes.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["zip", "state", "lat", "long"])
        writer.writerows(rows)
    print(f"{len(rows)} ZIP codes written")


if __name__ == "__main__":
    main()
