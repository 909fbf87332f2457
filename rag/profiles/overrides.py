"""Profile fields set by document tags: `--tag org=... --tag period=...` win over what was found."""

from rag.core.errors import BadInput
from rag.core.types import DocumentProfile
from rag.profiles.names import short_name
from rag.profiles.periods import parse_period

PROFILE_TAGS = ("title", "org", "period", "kind", "language")


def apply_tags(profile: DocumentProfile, tags: dict[str, str]) -> DocumentProfile:
    """`profile` with the fields its document's tags set (tag keys `PROFILE_TAGS`; other tags are left alone)."""
    out = profile.model_copy(deep=True)
    for key in PROFILE_TAGS:
        value = (tags.get(key) or "").strip()
        if not value:
            continue
        if key == "org":
            out.organizations = [value] + [o for o in out.organizations if o != value]
            out.aliases = list(dict.fromkeys([short_name(value), *out.aliases]))
        elif key == "period":
            period = parse_period(value)
            if period is None:
                raise BadInput(f"tag period={value!r} is not a period: write it like FY2018, 2021 Q1 or 2019")
            out.period, out.year, out.quarter = period.label, period.year, period.quarter
        else:
            setattr(out, key, value)
        out.sources["organizations" if key == "org" else key] = "tag"
    return out
