"""One settings tree (`RAG_` prefix, nested with `__`), built once and passed down.

Every field carries its description (docs/settings.md is rendered from them by scripts/settings_doc.py), and a
setting that takes one of a fixed set of words is a `Literal`, so a typo fails when the settings are read, with
pydantic's message listing the allowed words. Those words are read case-insensitively.
"""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVICE_PATTERN = r"^(auto|cpu|cuda(:[0-9]+)?)$"  # torch device names the service accepts: auto, cpu, cuda, cuda:N

GeneratorBackend = Literal["llama.cpp", "transformers", "openai"]
EmbedderBackend = Literal["auto", "torch", "int8", "onnx"]
# Loose spellings of the generator backends (lower case, without "_" and "-"): the one table, read by the settings
# and by rag.generation.protocol.backend_kind.
GENERATOR_BACKEND_ALIASES = {
    "llama.cpp": "llama.cpp",
    "llamacpp": "llama.cpp",
    "transformers": "transformers",
    "hf": "transformers",
    "openai": "openai",
    "openaicompatible": "openai",
}


def _lower(value: Any) -> Any:
    """A word setting as written in any case: "HNSW" is "hnsw"."""
    return value.strip().lower() if isinstance(value, str) else value


def canonical_generator_backend(name: str) -> str | None:
    """The backend word ("llama.cpp", "transformers", "openai") a loose spelling names, or None."""
    return GENERATOR_BACKEND_ALIASES.get(name.strip().lower().replace("_", "").replace("-", ""))


def _generator_backend(value: Any) -> Any:
    """The canonical backend word for a loose spelling ("llamacpp", "hf", "openai-compatible"); others unchanged."""
    if not isinstance(value, str):
        return value
    return canonical_generator_backend(value) or value


class EmbedderSettings(BaseModel):
    model: str = Field(default="all-MiniLM-L6-v2", description="manifest name of the embedding model")
    device: str = Field(default="auto", pattern=DEVICE_PATTERN, description="auto | cpu | cuda (or cuda:N)")
    batch_size: int = Field(default=32, description="texts per embedding batch")
    backend: EmbedderBackend = Field(
        default="auto",
        description="auto | torch | int8 | onnx; auto = onnx on CPU, torch on GPU (docs/benchmarks.md, docs/models.md)",
    )
    threads: int = Field(default=0, description="inference threads; 0 = every core this process may use")
    version: str | None = Field(
        default=None,
        description=(
            "the embedder version used until `rag models use --embedder` picks one: `model` itself when empty, or a "
            'tuned version registered by `rag finetune embedder` ("Tuning the embedder on your corpus" in '
            "docs/fine-tuning.md). Changing it needs `rag index rebuild`"
        ),
    )

    lower_case_words = field_validator("device", "backend", mode="before")(_lower)


class IndexSettings(BaseModel):
    use_gpu: Literal["auto", "never", "always"] = Field(
        default="auto", description="FAISS on the GPU: auto (when faiss has GPU support and sees a device), never, always"
    )
    keep_versions: int = Field(default=2, description="index versions kept under indexes/ (for `rag index rollback`)")
    kind: Literal["auto", "flat", "hnsw", "ivfpq"] = Field(
        default="auto", description='auto | flat | hnsw | ivfpq ("auto": exact below ann_above vectors, IVF-PQ above)'
    )
    ann_above: int = Field(default=100_000, description="vectors from which kind=auto builds an approximate (IVF-PQ) index")
    hnsw_m: int = Field(default=32, description="HNSW: neighbours per node (recorded in each version's manifest)")
    hnsw_ef_search: int = Field(default=96, description="HNSW: candidates explored per query")
    ivf_nprobe: int = Field(default=16, description="IVF-PQ: inverted lists probed per query")
    vector_cache: bool = Field(
        default=True,
        description=(
            "keep every chunk vector in <data dir>/vector_cache.sqlite under (embedder, text), so a re-ingest, "
            "re-chunk, repair or rebuild embeds only texts not embedded before (docs/retrieval.md)"
        ),
    )
    search_threads: int = Field(
        default=1,
        description=(
            "OpenMP threads of one query's FAISS search (in the querying thread only; builds use every core). 1 by "
            "default: with other work on the cores, a 2-thread flat search of 10k vectors took 75 ms instead of "
            "0.4 ms (docs/benchmarks.md)"
        ),
    )

    lower_case_words = field_validator("use_gpu", "kind", mode="before")(_lower)


class GeneratorSettings(BaseModel):
    backend: GeneratorBackend = Field(
        default="llama.cpp",
        description=(
            "llama.cpp | transformers | openai (an OpenAI-compatible HTTP endpoint); also spelt llamacpp, hf, "
            "openai-compatible (docs/models.md)"
        ),
    )
    model: str = Field(
        default="qwen2.5-coder-1.5b-instruct-q4_k_m",
        description=(
            "for llama.cpp and transformers: a manifest model name; for openai: the model name the endpoint serves. "
            'Default chosen by measured quality and latency (docs/benchmarks.md, "Choosing the answer model"); '
            "also the default teacher of `rag finetune data`"
        ),
    )
    endpoint: str | None = Field(default=None, description="openai backend: base URL, e.g. http://127.0.0.1:8080/v1")
    api_key: str | None = Field(default=None, description="openai backend: sent as a bearer token when set")
    lora_path: Path | None = Field(default=None, description="llama.cpp: a GGUF LoRA adapter applied on top of the base model")
    lora_sha256: str | None = Field(
        default=None, description="the adapter's pinned sha256: a file that differs is refused at load"
    )
    version: str | None = Field(
        default="qwen2.5-coder-1.5b-grounded-v1",
        description=(
            "the model version served until `rag models use` picks one (a built-in, packaged or registered id; see "
            '"Model versions" in docs/models.md). It gives way when the model, adapter, backend or endpoint is set '
            "explicitly. Default: the 1.5B with the adapter this project trained, which beats the 1.5B alone on both "
            'held-out sets (docs/benchmarks.md, "Fine-tuning"); empty serves `model` alone'
        ),
    )
    device: str = Field(
        default="auto",
        pattern=DEVICE_PATTERN,
        description="transformers: auto (cuda when available, else cpu) | cpu | cuda (or cuda:N)",
    )
    hf_cache_dir: Path | None = Field(
        default=None, description="transformers: dense checkpoints of the GGUFs (default `<models dir>/hf`)"
    )
    timeout_s: float = Field(
        default=120.0, description="one generation (and one HTTP call) may take at most this long; 504 after it"
    )
    n_ctx: int = Field(
        default=4096, description="context window in tokens: sources are dropped until the prompt fits n_ctx - max_tokens"
    )
    max_tokens: int = Field(default=256, description="longest answer in tokens")
    temperature: float = Field(default=0.0, description="sampling temperature (0: greedy, deterministic)")
    threads: int = Field(default=0, description="0 = all cores (llama.cpp); 0 = torch's default (transformers)")
    gpu_layers: int = Field(default=0, description="llama.cpp: layers offloaded to the GPU")
    isolate: bool = Field(
        default=True,
        description=(
            "rag serve: run a local answer model (llama.cpp, transformers) in a child process, so a native crash costs "
            "the request it served (503 with the reason) and the model is started again for the next, instead of "
            "taking the server down"
        ),
    )
    build_check: bool = Field(
        default=True,
        description=(
            "llama.cpp: before loading a model, generate a few tokens in a child process, so a build that cannot run "
            "on this CPU fails with its reason (503 for answers, search keeps serving) instead of killing the process"
        ),
    )

    lower_case_words = field_validator("device", mode="before")(_lower)
    canonical_backend = field_validator("backend", mode="before")(_generator_backend)


class ServingSettings(BaseModel):
    max_concurrent: int = Field(default=1, description="generations running at once (llama.cpp on CPU: 1 is fastest overall)")
    queue_size: int = Field(default=8, description="requests that may wait for a slot; more get 503 with Retry-After")
    queue_timeout_s: float = Field(default=60.0, description="a waiting request gives up (503) after this long")


class RetrievalSettings(BaseModel):
    mode: Literal["hybrid", "dense", "lexical"] = Field(default="hybrid", description="hybrid | dense | lexical")
    fusion: Literal["rrf", "weighted"] = Field(
        default="rrf", description="rrf (reciprocal rank fusion) | weighted (weighted score fusion)"
    )
    candidates: int = Field(default=50, description="top-N from each retriever before fusion")
    rrf_k: int = Field(default=60, description="the RRF constant")
    dense_weight: float = Field(default=1.0, description="weight of the dense (FAISS) list in the fusion")
    lexical_weight: float = Field(
        default=0.5, description="weight of the BM25 list; tuned on SciFact-train and FinanceBench-dev: see docs/benchmarks.md"
    )
    max_per_page: int = Field(default=2, description="at most this many chunks of one page in the final top-k (0 = no limit)")
    chunk_context: bool = Field(
        default=True,
        description=(
            "index each chunk with its document's label (organisation, kind, period from the profile) before its "
            "heading and text; changing it needs `rag index rebuild`"
        ),
    )
    table_figures_in_vectors: bool = Field(
        default=False,
        description=(
            "embed table rows whole; by default the embedder sees only their cells that hold a word or a year (BM25 "
            "indexes every cell either way); changing it needs `rag index rebuild`"
        ),
    )
    route: Literal["off", "boost", "restrict"] = Field(
        default="boost",
        description=(
            "question routing by document profiles: boost = fuse a search within the documents the question names "
            "with the global one; restrict = search only those when there are any; off"
        ),
    )
    route_weight: float = Field(default=2.0, description="weight of the routed documents' lists in the fusion (boost)")
    route_docs: int = Field(default=3, description="at most this many documents a question is routed to")
    route_profile_words: bool = Field(
        default=False,
        description=(
            "also route a question that names no document to the one whose profile (title, outline, entities) matches "
            "its words far better than any other's; off by default: it lowered SciFact nDCG@10 (docs/benchmarks.md)"
        ),
    )

    route_sections: bool = Field(
        default=True,
        description=(
            'move up the candidates under a heading the question names ("shown in the cash flow statement", '
            '"the annual leave section"): one more ranked list in the fusion (rag.retrieval.sections)'
        ),
    )
    section_weight: float = Field(default=1.0, description="weight of the named sections' list in the fusion")
    glossary_built_in: bool = Field(
        default=True,
        description=(
            "expand questions that name a term of the built-in glossary (financial measures: margins, turnover and "
            "liquidity ratios, capital intensity, free cash flow, EBITDA, effective tax rate, debt) with what it is "
            "made of, searched as two more ranked lists (rag.retrieval.glossary)"
        ),
    )
    glossary: Path | None = Field(
        default=None,
        description=(
            'a JSON file of your own terms, [{"terms": ["PTO", "paid time off"], "means": "annual leave vacation days"}], '
            "read with the built-in glossary"
        ),
    )
    glossary_weight: float = Field(
        default=2.0,
        description="weight of each glossary list (dense, BM25) in the fusion, as the routed lists weigh (docs/benchmarks.md)",
    )

    lower_case_words = field_validator("mode", "fusion", "route", mode="before")(_lower)


class AnswerSettings(BaseModel):
    mode: Literal["generate", "extract"] = Field(
        default="generate", description="generate | extract (verbatim quotes only, no free generation)"
    )
    check: bool = Field(default=True, description="verify every cited sentence against its source; drop unsupported ones")
    min_support: float = Field(
        default=0.5, description="share of a sentence's content words that must appear in the cited source"
    )
    min_retrieval: float = Field(
        default=0.4,
        description=(
            "refuse without generating when the best dense similarity is below this (0: off). Calibrated on "
            "FinanceBench-dev: answerable questions scored 0.50-0.83, entity-swapped unanswerable ones 0.40-0.62, "
            "off-topic ones about 0.1-0.25; 0.4 refuses no answerable question there and leaves a margin for other "
            "corpora (docs/benchmarks.md)"
        ),
    )
    regenerate: bool = Field(default=True, description="when no sentence survives the check, ask the model once more")
    max_quotes: int = Field(default=3, description="extract mode: verbatim sentences or table rows returned")
    table_lookup: bool = Field(
        default=True,
        description=(
            "when the model finds no answer, answer from the table cell whose row and period the question names, or "
            "compute the change, growth, average, ratio or share of the cells it names "
            "(rag.answering.table_calculations), if a source of a document the question names holds them "
            "(rag.answering.lookup); extract mode shows it first"
        ),
    )
    source_words: int = Field(
        default=80,
        description=(
            "cut each source to its best-matching lines within this many words (0: whole chunks): 22% fewer prompt "
            "tokens on FinanceBench-dev at the same answer quality (docs/benchmarks.md)"
        ),
    )
    tables: Literal["rows", "html"] = Field(
        default="rows",
        description=(
            'how table chunks reach the model: rows (" | " cells, one row a line) or html (compact). Rows measured '
            "better on FinanceBench-dev: 6 wrong answers of 51 vs 9, cited-page precision 0.125 vs 0.091 "
            "(docs/benchmarks.md)"
        ),
    )

    lower_case_words = field_validator("mode", "tables", mode="before")(_lower)


class AuthSettings(BaseModel):
    required: Literal["auto", "true", "false"] = Field(
        default="auto",
        description="auto: API keys required unless the server binds a loopback address (127.0.0.1, ::1, localhost)",
    )
    rate_per_min: int = Field(
        default=120, description="requests per minute per API key (token bucket, burst = this many); 0 = no limit"
    )

    lower_case_words = field_validator("required", mode="before")(_lower)


class HttpSettings(BaseModel):
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "host names the API answers to in the Host header (any port; JSON list; '*': any). Empty: the loopback "
            "names (localhost, 127.0.0.1, ::1) and the bound address when API keys are not required (no DNS "
            "rebinding), any name when keys are required. Other hosts get 421"
        ),
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description=(
            'origins ("https://app.example") besides the server\'s own whose pages may send state-changing requests '
            "(POST, PUT, PATCH, DELETE); a request whose Origin (or Referer) is another is refused with 403. "
            "Requests without either (curl, scripts) are not affected"
        ),
    )


class Source(BaseModel):
    """A folder `rag reindex` keeps the index in step with, and the collection its files go into."""

    path: Path = Field(description="the folder (rescanned recursively)")
    collection: str = Field(default="default", description="the collection its files go into")


class IngestSettings(BaseModel):
    allowed_roots: list[Path] = Field(
        default_factory=list,
        description="server-side folders that `POST /v1/documents` may name (JSON list in the environment); none: paths refused",
    )
    sources: list[Source] = Field(
        default_factory=list,
        description=(
            "what `rag reindex` rescans (JSON list of Source): "
            'RAG_INGEST__SOURCES=\'[{"path": "/srv/docs/hr", "collection": "hr"}]\''
        ),
    )
    reindex_cron: str = Field(
        default="", description='`rag worker` re-indexes the sources on this schedule ("m h dom mon dow", e.g. "15 2 * * *")'
    )
    reindex_batch: int = Field(
        default=500, description="changed files prepared (parsed, embedded) before they are written together"
    )


class StoreSettings(BaseModel):
    url: str = Field(
        default="",
        description=(
            "where the store keeps documents, chunks, tags, profiles, jobs, API keys and counters: empty = "
            "`<data dir>/store.sqlite` (SQLite, one machine); `sqlite:///PATH` another SQLite file; "
            "`postgresql://USER:PASSWORD@HOST:PORT/DB` PostgreSQL through psycopg 3 (extra `postgres`; libpq "
            "parameters such as `?sslmode=require` or `?options=-csearch_path%3Drag` pass through)"
        ),
    )
    migrate: bool = Field(
        default=True,
        description=(
            "apply the schema's missing migrations when the store is opened; false: refuse to start on a store whose "
            "schema is behind (run `rag db upgrade` first)"
        ),
    )
    pool_min: int = Field(default=1, ge=0, description="PostgreSQL: connections each process keeps open")
    pool_max: int = Field(default=8, ge=1, description="PostgreSQL: most connections of one process (more callers wait for one)")
    pool_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="PostgreSQL: how long to wait for a connection (at start, and from the pool) before failing",
    )


class JobsSettings(BaseModel):
    queue: Literal["sqlite", "redis"] = Field(
        default="sqlite", description="sqlite: `<data dir>/queue.sqlite` (one machine); redis: several (extra `redis`)"
    )
    redis_url: str = Field(default="redis://localhost:6379/0", description="the Redis server of queue=redis")
    workers: int = Field(default=1, description="jobs a `rag worker` runs at once (threads)")
    publish_every: int = Field(
        default=20, description="files of a job between index publications (the write lock is released between)"
    )
    stale_after_s: float = Field(
        default=30.0, description="a running job whose worker has not beaten for this long is taken over"
    )
    poll_max_s: float = Field(default=1.0, description="longest pause of an idle worker between looks at the queue")
    inference_threads: int = Field(
        default=0,
        description=(
            "inference threads (embedder, OCR and layout models, OpenMP, BLAS) of one `rag worker` process; 0 = every "
            "core. With W worker processes on C cores, C / W: two workers on two cores then do not fight over them"
        ),
    )

    lower_case_words = field_validator("queue", mode="before")(_lower)


class ParseSettings(BaseModel):
    workers: int = Field(
        default=0, description="processes per PDF; 0 = one per core (long PDFs only: at least 50 pages a worker)"
    )
    processes: int = Field(
        default=0,
        description=(
            "files parsed at once by a bulk ingest (`rag ingest`), each process loading its models once; 0 = one per "
            "core, 1 = in the ingesting process (then long PDFs use `workers`). Embedding stays in the ingesting process"
        ),
    )
    threads: int = Field(
        default=0,
        description="ONNX Runtime threads of the OCR, layout and table models; 0 = every core (parse processes: their share)",
    )
    table_model: bool = Field(
        default=False,
        description=(
            "born-digital pages with table-like structure (rules, aligned rows) are rendered and read by the layout "
            "model, and its table regions rebuilt by the table-structure model over the PDF's words (ICDAR 2013 TEDS "
            "0.83 -> 0.92, parsing about 3x slower); off by default: its tables are better, but FinanceBench-dev page "
            "recall@5 is lower with them (0.420 against 0.464, docs/benchmarks.md)"
        ),
    )
    ocr_engine: Literal["rapidocr", "tesseract"] = Field(
        default="rapidocr", description="rapidocr | tesseract (the `tesseract` program must be installed)"
    )
    tesseract_lang: str = Field(
        default="eng", description='tesseract -l value, e.g. "eng+deu" (its language data must be installed)'
    )
    max_pages: int = Field(
        default=2000, ge=1, description="a PDF with more pages than this is refused (its reason says so) before any page is read"
    )
    file_timeout_s: float = Field(
        default=3600.0,
        ge=0,
        description=(
            "parsing one file stops after this many seconds, between pages, and the file fails with that reason (0: no limit)"
        ),
    )
    max_render_pixels: int = Field(
        default=40_000_000,
        ge=1_000_000,
        description=(
            "largest image of one page, in pixels: a larger PDF page is rendered at a lower resolution (the page's "
            "warning says so) and a larger page image is refused (422)"
        ),
    )

    lower_case_words = field_validator("ocr_engine", mode="before")(_lower)


class ChunkSettings(BaseModel):
    max_words: int = Field(default=180, description="longest chunk in words")
    table_words: int = Field(
        default=80,
        ge=0,
        description=(
            "longest piece of a table split by rows, in words (0: max_words); 80 measured better than 180 on "
            "FinanceBench-dev (docs/benchmarks.md); needs `rag index rebuild --rechunk`"
        ),
    )
    merge_below: int = Field(
        default=15,
        ge=0,
        description=(
            "a chunk of fewer words joins its neighbour on the same page when the two fit in max_words (0: never); "
            "changing it needs `rag index rebuild --rechunk`"
        ),
    )
    min_words: int = Field(
        default=8,
        description=(
            "a heading or table does not close the pending chunk until it holds this many words (short text joins what follows)"
        ),
    )


class PagesSettings(BaseModel):
    """Page images of stored documents (`GET /v1/documents/{id}/pages/{n}.png`), for the web app's page viewer."""

    keep_originals: bool = Field(
        default=True,
        description=(
            "keep a copy of each ingested PDF and page image under `<data dir>/originals` (page images are rendered "
            "from it; without it, only from the document's path while that file is unchanged)"
        ),
    )
    default_dpi: int = Field(default=110, description="resolution of a page image when the request names none")
    min_dpi: int = Field(default=36, description="the lowest resolution a request may ask for (lower is raised to it)")
    max_dpi: int = Field(default=220, description="the highest resolution a request may ask for (higher is lowered to it)")
    cache_mb: int = Field(
        default=256,
        description="page images kept under `<data dir>/page_images`; the least recently used go first (0: none kept)",
    )


class ConversationSettings(BaseModel):
    rewrite_model: bool = Field(
        default=True,
        description=(
            "ask the answer model for the standalone question when a follow-up needs its conversation and no rule "
            "can rewrite it (generate mode only); off: such a follow-up is asked as written"
        ),
    )
    history_turns: int = Field(default=3, ge=1, le=20, description="the latest turns of a conversation the model is shown")
    max_turns: int = Field(default=200, ge=1, description="turns a conversation may hold; more get 422 (start a new one)")


class Settings(BaseSettings):
    """Every knob of the service. Environment: RAG_DATA_DIR, RAG_GENERATOR__MODEL, ..."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description='store, indexes, html (docs/operations.md, "Data directory")')
    models_dir: Path | None = Field(
        default=None, description="assembled model files; defaults to `<data dir>/models` (the scripts set `./var/models`)"
    )
    versions_dir: Path | None = Field(
        default=None,
        description=(
            "registered model versions (adapters, data cards, eval reports) and the `current` pointer; defaults to "
            "`<models dir>/versions`. A writable place shared by every process that answers (e.g. under the data "
            "volume when the models dir is part of an image)"
        ),
    )
    wheel_cache: Path = Field(default=Path.home() / ".cache" / "rag" / "wheels", description="a cache folder for built wheels")
    top_k: int = Field(default=5, description="chunks given to the model")
    max_upload_mb: int = Field(default=200, description="per uploaded file")
    max_upload_files: int = Field(default=100, description="files in one upload request")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text | json: one JSON object per line, with the request id"
    )
    embedder: EmbedderSettings = Field(default=EmbedderSettings(), description="the embedding model")
    index: IndexSettings = Field(default=IndexSettings(), description="the vector index")
    generator: GeneratorSettings = Field(default=GeneratorSettings(), description="the answer model")
    chunks: ChunkSettings = Field(default=ChunkSettings(), description="chunking")
    parse: ParseSettings = Field(default=ParseSettings(), description="parsing and OCR")
    retrieval: RetrievalSettings = Field(default=RetrievalSettings(), description="retrieval and fusion")
    answer: AnswerSettings = Field(default=AnswerSettings(), description="answers and the citation check")
    serving: ServingSettings = Field(default=ServingSettings(), description="the generation gate")
    auth: AuthSettings = Field(default=AuthSettings(), description="API keys")
    http: HttpSettings = Field(default=HttpSettings(), description="which hosts and origins the API answers")
    ingest: IngestSettings = Field(default=IngestSettings(), description="server-side ingestion and re-indexing")
    store: StoreSettings = Field(default=StoreSettings(), description="the store's database (SQLite or PostgreSQL)")
    jobs: JobsSettings = Field(default=JobsSettings(), description="ingestion jobs and workers")
    pages: PagesSettings = Field(default=PagesSettings(), description="page images for the web app's viewer")
    conversations: ConversationSettings = Field(
        default=ConversationSettings(), description="conversations: follow-up questions rewritten before retrieval"
    )

    lower_case_words = field_validator("log_format", mode="before")(_lower)

    @property
    def models_path(self) -> Path:
        return Path(self.models_dir) if self.models_dir else Path(self.data_dir) / "models"

    @property
    def versions_path(self) -> Path:
        return Path(self.versions_dir) if self.versions_dir else self.models_path / "versions"
