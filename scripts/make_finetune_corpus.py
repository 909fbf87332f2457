"""Generates the corpus the default adapter is trained on: fictional company documents (Apache-2.0, written by
this project, every fact drawn from seeded lists, so the corpus is the same on every machine).

Each company gets a handbook (policies, several pages of prose with numbers and names) and a results table.
Companies share the same kinds of facts (leave days, head office, quarterly figures), so a question about one
company retrieves look-alike passages of others: the hard case for refusing.

Run: .venv/bin/python scripts/make_finetune_corpus.py OUT_DIR [--companies 20] [--seed 0]
"""

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import docgen  # noqa: E402

PREFIX = [
    "Norwind",
    "Bluecrest",
    "Alder",
    "Kestrel",
    "Ostara",
    "Marlow",
    "Tindra",
    "Corvid",
    "Halden",
    "Pellucid",
    "Sorrel",
    "Veltra",
    "Quillon",
    "Brannock",
    "Larkspur",
    "Edda",
    "Fenwick",
    "Juniper",
    "Rask",
    "Umbra",
    "Calder",
    "Wrenfield",
    "Saltmarsh",
    "Gossamer",
]
SUFFIX = [
    "Energy",
    "Logistics",
    "Foods",
    "Robotics",
    "Textiles",
    "Pharma",
    "Shipping",
    "Software",
    "Mining",
    "Optics",
    "Ceramics",
    "Insurance",
]
CITIES = [
    "Bergen",
    "Tampere",
    "Gdansk",
    "Porto",
    "Lyon",
    "Graz",
    "Aarhus",
    "Utrecht",
    "Bilbao",
    "Brno",
    "Cork",
    "Malmo",
    "Turin",
    "Leipzig",
    "Ghent",
    "Tartu",
]
FIRST = [
    "Ingrid",
    "Tomas",
    "Amara",
    "Leon",
    "Sofia",
    "Rafael",
    "Helga",
    "Mateo",
    "Yara",
    "Pieter",
    "Noor",
    "Emil",
    "Carla",
    "Jonas",
    "Ilse",
    "Dario",
]
LAST = [
    "Lindqvist",
    "Okafor",
    "Brenner",
    "Moreau",
    "Kowalski",
    "Haugen",
    "Petrov",
    "Santos",
    "Virtanen",
    "Delacroix",
    "Novak",
    "Ferreira",
    "Aalto",
    "Byrne",
    "Ricci",
    "Weber",
]
PRODUCTS = [
    "Atlas",
    "Beacon",
    "Cirrus",
    "Delta",
    "Ember",
    "Fathom",
    "Glacier",
    "Harbor",
    "Iris",
    "Juno",
    "Keystone",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orbit",
    "Prism",
]
SEGMENTS = ["Consumer", "Industrial", "Services", "Licensing", "Export", "Retail"]


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def company_facts(name: str, rng: random.Random) -> dict:
    return {
        "name": name,
        "city": rng.choice(CITIES),
        "founded": rng.randint(1952, 2016),
        "ceo": person(rng),
        "cfo": person(rng),
        "safety": person(rng),
        "staff": rng.randint(80, 9000),
        "sites": rng.randint(2, 14),
        "leave": rng.choice([22, 24, 25, 26, 28, 30]),
        "carry": rng.choice([3, 5, 8, 10]),
        "parental": rng.choice([12, 14, 16, 18, 20, 26]),
        "remote": rng.choice([1, 2, 3]),
        "meal": rng.choice([40, 45, 50, 55, 60, 65, 70]),
        "meal_far": rng.choice([75, 80, 85, 90, 95]),
        "hotel": rng.choice([120, 140, 150, 160, 180, 200]),
        "flight": rng.choice([4, 5, 6, 7, 8]),
        "training": rng.choice([1000, 1200, 1500, 2000, 2500]),
        "notice": rng.choice([1, 2, 3]),
        "report_h": rng.choice([12, 24, 48]),
        "bonus": rng.choice([5, 8, 10, 12, 15]),
        "products": rng.sample(PRODUCTS, 3),
        "prices": [rng.randint(19, 900) for _ in range(3)],
        "launch": [rng.randint(2015, 2024) for _ in range(3)],
        "segments": rng.sample(SEGMENTS, 4),
        "quarters": [[rng.randint(5, 480) for _ in range(4)] for _ in range(4)],
        "margin": round(rng.uniform(3.0, 24.0), 1),
        "growth": round(rng.uniform(-6.0, 19.0), 1),
    }


def handbook(f: dict, rng: random.Random) -> list[tuple[str, list[str]]]:
    n = f["name"]
    say = rng.choice
    p1, p2, p3 = f["products"]
    return [
        (
            "1. About the company",
            [
                say(
                    [
                        f"{n} was founded in {f['founded']} and has its head office in {f['city']}.",
                        f"Founded in {f['founded']}, {n} is headquartered in {f['city']}.",
                    ]
                )
                + f" The company employs {f['staff']:,} people at {f['sites']} sites. "
                f"{f['ceo']} is the chief executive officer and {f['cfo']} is the chief financial officer.",
                say(
                    [
                        f"In the last financial year revenue grew by {f['growth']}% and the operating margin was {f['margin']}%.",
                        f"Revenue changed by {f['growth']}% over the last financial year, "
                        f"at an operating margin of {f['margin']}%.",
                    ]
                ),
            ],
        ),
        (
            "2. Leave and working time",
            [
                f"Employees of {n} receive {f['leave']} days of paid annual leave per calendar year. "
                f"At most {f['carry']} unused days may be carried over into the next year.",
                say(
                    [
                        f"Parental leave is paid at full salary for {f['parental']} weeks.",
                        f"The company pays full salary during the first {f['parental']} weeks of parental leave.",
                    ]
                )
                + f" Staff may work from home up to {f['remote']} days a week when their role allows it.",
                f"The notice period during probation is {f['notice']} month{'s' if f['notice'] > 1 else ''}.",
            ],
        ),
        (
            "3. Travel and expenses",
            [
                f"The daily meal allowance on business trips is {f['meal']} EUR within Europe and {f['meal_far']} EUR "
                f"elsewhere. Hotels may cost up to {f['hotel']} EUR per night.",
                say(
                    [
                        f"Economy class is used for flights shorter than {f['flight']} hours; business class needs approval "
                        f"by {f['cfo']}.",
                        f"Flights under {f['flight']} hours are booked in economy class. Longer flights may be booked in "
                        f"premium economy.",
                    ]
                ),
                f"Each employee has a training budget of {f['training']:,} EUR per year.",
            ],
        ),
        (
            "4. Safety",
            [
                f"Every incident must be reported to the site safety officer, {f['safety']}, within {f['report_h']} hours.",
                say(
                    [
                        "Hard hats and safety shoes are required in all production halls.",
                        "Visitors must be accompanied at all times in production areas.",
                    ]
                ),
            ],
        ),
        (
            "5. Products",
            [
                f"The {p1} product line was launched in {f['launch'][0]} and sells for {f['prices'][0]} EUR. "
                f"{p2} followed in {f['launch'][1]} at a list price of {f['prices'][1]} EUR.",
                f"{p3}, launched in {f['launch'][2]}, is priced at {f['prices'][2]} EUR per unit. "
                f"Sales staff earn a bonus of {f['bonus']}% of the revenue they bring in above their target.",
            ],
        ),
    ]


def results_rows(f: dict) -> list[list[str]]:
    rows = [["Segment", "Q1", "Q2", "Q3", "Q4"]]
    for seg, q in zip(f["segments"], f["quarters"]):
        rows.append([seg, *[str(v) for v in q]])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--companies", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    names = [f"{p} {s}" for p, s in zip(rng.sample(PREFIX, args.companies), [rng.choice(SUFFIX) for _ in range(args.companies)])]
    for name in names:
        f = company_facts(name, rng)
        slug = name.lower().replace(" ", "-")
        docgen.simple_pdf(args.out / f"{slug}-handbook.pdf", handbook(f, rng), title=f"{name} Employee Handbook")
        docgen.table_pdf(
            args.out / f"{slug}-results.pdf", f"{name}: revenue by segment, last year (EUR million)", results_rows(f)
        )
    print(f"{2 * len(names)} documents in {args.out}")


if __name__ == "__main__":
    main()
