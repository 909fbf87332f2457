"""Data that crosses seams: chunks going in, hits and answers coming out.

These are pydantic models so the REST API and the CLI's `--json` emit the very same schema.
"""

from typing import Annotated

from pydantic import BaseModel, Field


class Chunk(BaseModel):
    """A piece of a document small enough to embed, tied to one page."""

    id: str
    doc_id: str
    page: int
    bbox: list[float] = Field(default_factory=list)
    heading: str = ""
    text: str
    html: str = ""
    ord: int = 0
    addresses_model: bool = False  # its text speaks to a model ("ignore previous instructions"): quoted in prompts


MAX_PAGE = 1_000_000  # a page number beyond any document (and far within SQLite's integers)
MAX_FILTER_ITEMS = 100  # names in `collections` or `docs`
MAX_FILTER_TAGS = 20  # tags that must all match
Name = Annotated[str, Field(max_length=512)]


class Filters(BaseModel):
    """What a search may return; applied before the top-k cut. Bounded, so no filter can make a query too large."""

    collection: str | None = Field(default=None, max_length=64)
    collections: list[Name] = Field(
        default_factory=list, max_length=MAX_FILTER_ITEMS, description="only these collections (any of them)"
    )
    docs: list[Name] = Field(default_factory=list, max_length=MAX_FILTER_ITEMS, description="document names or ids")
    page_from: int | None = Field(default=None, ge=1, le=MAX_PAGE)
    page_to: int | None = Field(default=None, ge=1, le=MAX_PAGE)
    tags: dict[Name, Name] = Field(
        default_factory=dict,
        max_length=MAX_FILTER_TAGS,
        description='document tags that must all match, e.g. {"department": "finance", "year": "2024"}',
    )

    @property
    def active(self) -> bool:
        return bool(self.collection or self.collections or self.docs or self.page_from or self.page_to or self.tags)


class Hit(BaseModel):
    """A retrieved chunk with its fused score (higher is better) and the scores that made it."""

    chunk_id: str
    doc_id: str
    doc: str
    page: int
    bbox: list[float] = Field(default_factory=list)
    score: float
    dense_score: float | None = None  # cosine similarity to the question, when dense retrieval ran
    lexical_score: float | None = None  # BM25 score, when the chunk matched lexically
    text: str
    html: str = Field(default="", exclude=True)  # the chunk's layout HTML (for prompts; not sent to clients)
    context: str = Field(default="", description="the document's label: organisation, kind, period (from its profile)")
    route: str | None = Field(default=None, description="why the question was routed to this hit's document, if it was")
    section: str | None = Field(default=None, description="the heading of this hit the question names, if it names one")
    addresses_model: bool = Field(
        default=False,
        description='its text speaks to a model ("ignore previous instructions"): flagged at ingest, quoted to the model',
    )


class Citation(BaseModel):
    """One `[n]` of an answer: the source it points to and the sentence that supports it."""

    n: int
    doc: str
    page: int
    chunk_id: str
    quote: str
    bbox: list[float] = Field(default_factory=list)
    support: float | None = None  # share of the citing sentences' content words found in the source


class Operand(BaseModel):
    """A number a calculation uses, as the model wrote it, and the source it was found in."""

    value: float = Field(description="the number as written, signed: (370) is -370, 4.5% is 4.5")
    text: str = Field(description="as written in the answer")
    citation: int = Field(description="the [n] of the source that writes it")
    quote: str = Field(default="", description="the source's line that writes it")
    unit: str = Field(default="", description='"%", "$ million", ... as found in the source')


class Calculation(BaseModel):
    """A calculation in an answer: its operands checked against their sources, its result computed by the service."""

    expression: str = Field(description='as shown in the answer, each number with its marker: "1,577 [2] / 32,765 [1] * 100"')
    operands: list[Operand] = Field(default_factory=list)
    result: float = Field(description="the computed result, rounded as written into the answer")
    unit: str = Field(default="", description='"%", "percentage points", "" (a ratio), "$ million", ...')
    text: str = Field(description='the result as written into the answer: "4.8%"')
    stated: str | None = Field(default=None, description="the result the model wrote, if it wrote one")
    replaced: bool = Field(default=False, description="the model's result differed from the computed one and was replaced")


class TableLookup(BaseModel):
    """A table cell an answer was read from (the row the question names, under the column of the period it names), or
    a calculation over cells the question names (a change between two years, a ratio of two rows), without a model."""

    n: int = Field(description="the source (1-based) whose table row holds the cell; its citation quotes the row")
    label: str = Field(description='the row\'s label, verbatim: "Total current assets"')
    column: str = Field(description='the column\'s header, verbatim: "2019"')
    value: str = Field(description='the cell\'s figure, verbatim: "16,525"')
    scale: str = Field(default="", description='the table\'s unit when its header or a line above it states one: "in millions"')
    kind: str = Field(
        default="cell",
        description="cell: read as written; change, growth, average, ratio or share: computed from cells (the operands "
        'are in the answer\'s `calculations`), `value` is the result and `column` the periods ("2018 to 2019")',
    )


class ModelRef(BaseModel):
    """Which model wrote an answer: a pinned file (sha256) or an endpoint, plus any adapter, and the model
    version (`rag models list`) they make up."""

    name: str
    version: str | None = Field(
        default=None, description="the model version served (base + adapter); null for an OpenAI-compatible endpoint"
    )
    backend: str = "llama.cpp"
    sha256: str | None = None
    endpoint: str | None = None
    adapter: str | None = None
    adapter_sha256: str | None = None


class Answer(BaseModel):
    answer: str
    refused: bool = False  # true when the documents do not answer the question (answer says so)
    mode: str = "generate"  # generate | extract
    citations: list[Citation]
    dropped: list[str] = Field(default_factory=list, description="sentences removed: their citation did not support them")
    calculations: list[Calculation] = Field(
        default_factory=list,
        description="the answer's calculations, each operand found in a cited source, computed by the service",
    )
    lookup: TableLookup | None = Field(
        default=None,
        description="the table cell the answer was read from, when the model found no answer and a table row named by "
        "the question was among the sources (or, in extract mode, whenever one was)",
    )
    summary: str | None = Field(default=None, description="extract mode: a short summary written only from the quotes")
    draft: str | None = Field(default=None, description="the model's first text, before the citation check")
    model: ModelRef | None = None
    hits: list[Hit] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


class SearchResult(BaseModel):
    query: str
    hits: list[Hit]
    timings_ms: dict[str, float]


class DocumentProfile(BaseModel):
    """What a document is and is about, found at ingest (`rag.profiles`), overridable by tags; it routes questions
    to documents and labels every chunk (`context`)."""

    title: str = ""
    organizations: list[str] = Field(default_factory=list, description="issuers or subjects, most salient first")
    aliases: list[str] = Field(default_factory=list, description="other names: tickers, short forms, file-name words")
    entities: list[str] = Field(default_factory=list, description="frequent named things (products, places, people)")
    period: str = Field(default="", description='"FY2018", "2021 Q1", "2019": the period the document reports on')
    year: int | None = None
    quarter: int | None = None
    kind: str = Field(default="", description="10-K, 10-Q, 8-K, annual report, policy, manual, paper, invoice, ...")
    language: str = ""
    pages: int = 0
    outline: list[str] = Field(default_factory=list, description="top-level headings in order")
    sources: dict[str, str] = Field(default_factory=dict, description="field -> where it was found")
    metadata: dict[str, str] = Field(default_factory=dict, description="the file's own metadata (PDF info)")

    @property
    def context(self) -> str:
        """The short label every chunk of the document carries: organisation, kind, period (else the title)."""
        title = self.title if any(len(w) >= 3 and w.isalpha() for w in self.title.split()) else ""  # not "4983"
        parts = [self.organizations[0] if self.organizations else title, self.kind, self.period]
        return " · ".join(p for p in parts if p)


class Document(BaseModel):
    id: str
    name: str
    path: str
    collection: str
    sha256: str
    status: str
    error: str | None = None
    pages: int = 0
    chunks: int = 0
    ingested_at: str | None = None
    tags: dict[str, str] = Field(default_factory=dict, description="key=value metadata given at ingest")
    aliases: list[str] = Field(
        default_factory=list, description="other paths of the same content (sha256) in the collection, not stored again"
    )
    text_sha256: str = Field(default="", description="sha256 of its chunks' text, normalised: the same text in other bytes")
    profile: DocumentProfile = Field(default_factory=DocumentProfile, description="what the document is and is about")


class JobFile(BaseModel):
    """One file of an ingestion job: queued, running, ok, skipped (unchanged), failed (with the reason), cancelled."""

    n: int
    name: str
    status: str = "queued"
    reason: str = ""
    pages: int = 0
    chunks: int = 0
    doc_id: str | None = None
    seconds: float = 0.0


class Job(BaseModel):
    """An ingestion job: queued, running, done, failed (every file failed, or the job itself broke), cancelled."""

    id: str
    collection: str
    state: str
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    cancel_requested: bool = False
    total: int = 0
    done: int = 0
    counts: dict[str, int] = Field(default_factory=dict)
    files: list[JobFile] = Field(default_factory=list)


class DocumentDetail(Document):
    html: str | None = Field(default=None, description="the layout HTML of the document")


class PageInfo(BaseModel):
    """One page (or section) of a stored document as its layout HTML records it: what the web app's viewer needs to
    place a citation's box (page units: PDF points, or pixels of a page image; origin top-left)."""

    n: int = Field(description="the page number (1-based)")
    width: float = Field(description="the page's width in page units")
    height: float = Field(description="the page's height in page units")
    source: str = Field(default="text", description="text: read from the text layer; ocr: read from its image")
    label: str = Field(default="", description='what a section without a printed page is called: "Slide 3", a heading')
    rotation: int = Field(default=0, description="clockwise degrees a scan was turned by (its image is shown upright)")
    warning: str = Field(default="", description="what was read with less care than usual")
    error: str = Field(default="", description="why this page could not be read")
    quote_boxes: list[list[float]] = Field(
        default_factory=list,
        description="with `quote=`: the boxes of the lines the quote is written on (born-digital PDF pages only)",
    )


class DocumentPages(BaseModel):
    """A stored document's pages, and whether they can be shown as images (PDFs, scans and page images can)."""

    doc_id: str
    name: str
    images: bool = Field(description="whether `GET /v1/documents/{id}/pages/{n}.png` can render its pages")
    reason: str = Field(default="", description="why it cannot, when it cannot")
    pages: list[PageInfo] = Field(default_factory=list)


class Rewritten(BaseModel):
    """How a follow-up became the standalone question that was searched and answered."""

    question: str = Field(description="the standalone question searched and answered")
    method: str = Field(
        description="unchanged (it stood alone) | rules | model | unresolved (it needed its context and no rule or "
        "model could give it: asked as written)"
    )
    rule: str = Field(default="", description='the rule that rewrote it: "period", "name", "topic", "pronoun", ...')


class Message(BaseModel):
    """One turn of a conversation: the question as asked, as answered, and the answer."""

    n: int = Field(description="the turn's number in its conversation, from 1")
    question: str = Field(description="the question as the user wrote it")
    rewritten: Rewritten
    answer: Answer
    index_version: str | None = Field(default=None, description="the index version the answer was found in")
    created_at: str


class Conversation(BaseModel):
    """A conversation of one API key: its turns in order (listings leave them out and give their count)."""

    id: str
    title: str = Field(description="its first question, shortened")
    collection: str | None = Field(default=None, description="the collection its questions search (null: all the key's)")
    created_at: str
    updated_at: str
    turns: int = 0
    messages: list[Message] = Field(default_factory=list)


class Feedback(BaseModel):
    """A thumbs up or down on one answer, with what was asked and answered, for evaluation and training data."""

    id: str
    rating: str = Field(description="up | down")
    comment: str = ""
    question: str = Field(description="the standalone question that was answered")
    asked: str = Field(default="", description="the question as the user wrote it, when it was rewritten")
    answer: str
    refused: bool = False
    citations: list[Citation] = Field(default_factory=list)
    model: ModelRef | None = None
    index_version: str | None = None
    collection: str | None = None
    conversation_id: str | None = None
    message: int | None = Field(default=None, description="the conversation turn it rates")
    created_at: str
