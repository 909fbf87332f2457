"""Periods a document reports on and periods a question names: fiscal years, quarters, plain years."""

import re
from dataclasses import dataclass

MONTHS = "january february march april may june july august september october november december".split()
_MONTH = "(" + "|".join(MONTHS) + r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?"
_YEAR = r"((?:19|20)\d\d)"
ENDED = re.compile(
    rf"\b(fiscal\s+year|year|quarterly\s+period|quarter|period|six\s+months|nine\s+months|three\s+months)s?\s+ended\s+"
    rf"{_MONTH}\s+\d{{1,2}},?\s+{_YEAR}",
    re.I,
)
FISCAL = re.compile(r"\b(?:FY|fiscal(?:\s+year)?)\s*'?((?:19|20)\d\d|\d\d)\b", re.I)
QUARTER = re.compile(
    r"\b(?:Q([1-4])|([1-4])Q|(first|second|third|fourth)\s+quarter)(?:\s+(?:of\s+)?(?:fiscal\s+|FY\s*)?)?'?((?:19|20)\d\d)?", re.I
)
YEAR = re.compile(rf"(?<![\d,.$]){_YEAR}(?![\d,])")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int | None = None
    fiscal: bool = False

    @property
    def label(self) -> str:
        if self.quarter:
            return f"{self.year} Q{self.quarter}"
        return f"FY{self.year}" if self.fiscal else str(self.year)


def _full_year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def stated_period(text: str) -> Period | None:
    """The period a report states it covers ("for the fiscal year ended December 31, 2018", "for the quarterly period
    ended March 31, 2021"), the first such statement in `text`; None when there is none."""
    m = ENDED.search(text)
    if not m:
        return None
    span, month, year = m.group(1).lower(), m.group(2).lower()[:3], int(m.group(3))
    if "quarter" in span or span.startswith(("three", "six", "nine")):
        months = [x[:3] for x in MONTHS]
        return Period(year, quarter=months.index(month) // 3 + 1 if month in months else None)
    return Period(year, fiscal="fiscal" in span or "year" in span)


def years_in(text: str) -> list[int]:
    """Every plausible year (1990-2099) written in `text`, in order, with FY forms ("FY19") included."""
    found = [(m.start(), _full_year(m.group(1))) for m in FISCAL.finditer(text)]
    found += [(m.start(), int(m.group(1))) for m in YEAR.finditer(text)]
    return [y for _, y in sorted(found) if 1990 <= y <= 2099]


def question_periods(question: str) -> list[Period]:
    """The periods a question names: "FY2018", "fiscal 2022", "2019", "Q1 2021", "first quarter of 2021"."""
    periods: list[Period] = []
    for m in QUARTER.finditer(question):
        q = int(m.group(1) or m.group(2) or ORDINALS.get((m.group(3) or "").lower(), 0))
        if m.group(4) and q:
            periods.append(Period(int(m.group(4)), quarter=q))
    fiscal = {_full_year(m.group(1)) for m in FISCAL.finditer(question)}
    for year in dict.fromkeys(years_in(question)):
        if not any(p.year == year for p in periods):
            periods.append(Period(year, fiscal=year in fiscal))
    return periods


def parse_period(text: str) -> Period | None:
    """A period written by a person in a tag: "FY2018", "2021 Q1", "Q1 2021", "2019"."""
    found = question_periods(text)
    return found[0] if found else None
