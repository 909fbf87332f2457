"""Regenerates the sample documents in examples/ (all text written for this project; Apache-2.0).

Run: .venv/bin/python scripts/make_examples.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import docgen  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "examples"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    docgen.simple_pdf(
        OUT / "employee-handbook.pdf",
        [
            (
                "1. Working hours",
                [
                    "Core working hours at Northwind Energy are from 10:00 to 15:00, Monday to Friday. "
                    "Outside the core hours employees choose their own schedule, as long as the weekly total is 37.5 hours.",
                    "Overtime must be approved in advance by the team lead and is compensated as time off within 3 months.",
                ],
            ),
            (
                "2. Leave",
                [
                    "Every employee is entitled to 25 days of paid annual leave per calendar year. "
                    "Up to 5 unused days may be carried over into the first quarter of the next year.",
                    "Parental leave is paid at full salary for the first 16 weeks.",
                ],
            ),
            (
                "3. Travel",
                [
                    "Business travel is booked through the internal travel desk. Economy class is used for flights "
                    "shorter than 6 hours; premium economy is allowed on longer flights.",
                    "The daily meal allowance on business trips is 55 EUR within Europe and 70 EUR elsewhere.",
                ],
            ),
        ],
        title="Northwind Energy Employee Handbook",
    )
    docgen.table_pdf(
        OUT / "plant-output-2024.pdf",
        "Electricity output by plant, 2024 (GWh)",
        [
            ["Plant", "Q1", "Q2", "Q3", "Q4"],
            ["Fjordvik hydro", "412", "388", "301", "455"],
            ["Kalmar wind", "220", "174", "160", "251"],
            ["Solberg solar", "35", "118", "131", "28"],
        ],
    )
    docgen.page_image(
        OUT / "safety-notice.png",
        [
            "SAFETY NOTICE",
            "Hard hats are required in all turbine halls.",
            "The fire assembly point is the north parking lot.",
            "Report every incident to the site safety officer within 24 hours.",
        ],
    )
    for f in sorted(OUT.iterdir()):
        print(f"{f.name}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
