"""A tiny corpus for the embedder-tuning tests: six reports (three companies, two years each), put straight into the
store with their profiles, headings and one cash-flow table each, so the pairs they give are known."""

import hashlib

from rag.core.types import Chunk, Document, DocumentProfile

COMPANIES = {
    "Norvik Ferries": ("ferry routes", "vessels", "the western fjords"),
    "Halden Foods": ("bakeries", "ovens", "the eastern valleys"),
    "Lumo Energy": ("wind farms", "turbines", "the northern coast"),
}


def report_chunks(company: str, year: int) -> list[tuple[str, str]]:
    """(heading, text) of one annual report."""
    what, equipment, region = COMPANIES[company]
    n = len(company) + year % 10
    return [
        (
            "Overview",
            f"Overview\n{company} operated {n} {what} in {region} during {year}. The board approved a plan to "
            f"renew the {equipment} and to open two sites before the end of {year + 1}.",
        ),
        (
            "Safety",
            f"Safety\nEvery site of {company} held {n % 5 + 2} emergency drills in {year}. No serious injury was "
            f"reported, and the inspectors signed off all {equipment} after their spring visit.",
        ),
        (
            "Cash flows",
            f"Item | {year} | {year - 1}\nPurchases of {equipment} | {n * 10} | {n * 9}\n"
            f"Dividends paid | {n * 3} | {n * 2}\nNet cash from operations | {n * 40} | {n * 37}",
        ),
        (
            "Staff",
            f"Staff\nAt the end of {year} {company} employed {n * 12} people, of whom {n * 3} worked part time; "
            f"training hours per employee rose to {n + 20} in {region}.",
        ),
    ]


def put_reports(services, collection: str = "default") -> list[Document]:
    """The six reports in `services`' store and index (one publication per report)."""
    docs = []
    for company in COMPANIES:
        for year in (2022, 2023):
            name = f"{company.split()[0].lower()}-{year}.pdf"
            doc_id = hashlib.sha256(f"{collection}/{name}".encode()).hexdigest()[:16]
            profile = DocumentProfile(
                title=f"{company} Annual Report {year}", organizations=[company], kind="annual report", period=str(year)
            )
            doc = Document(
                id=doc_id,
                name=name,
                path=f"/docs/{name}",
                collection=collection,
                sha256=doc_id,
                status="ok",
                pages=1,
                profile=profile,
            )
            chunks = [
                Chunk(id=f"{doc_id}-{i}", doc_id=doc_id, page=1, bbox=[0, 0, 1, 1], heading=h, text=t, ord=i)
                for i, (h, t) in enumerate(report_chunks(company, year))
            ]
            services.kb.put_document(doc, 1, 0.0, chunks)
            docs.append(doc)
    return docs
