"""One settings tree (`RAG_` prefix, nested with `__`), built once and passed down."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EmbedderSettings(BaseModel):
    model: str = "all-MiniLM-L6-v2"
    device: str = "auto"  # auto | cpu | cuda
    batch_size: int = 32
    backend: str = "auto"  # auto | torch | int8 | onnx; auto = onnx on CPU, torch on GPU (docs/benchmarks.md)
    threads: int = 0  # inference threads; 0 = every core this process may use


class IndexSettings(BaseModel):
    use_gpu: str = "auto"  # auto | never | always
    keep_versions: int = 2
    kind: str = "auto"  # auto | flat | hnsw | ivfpq ("auto": exact below ann_above vectors, IVF-PQ above)
    ann_above: int = 100_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 96
    ivf_nprobe: int = 16
    # OpenMP threads of one query's FAISS search (in the querying thread only; builds use every core). 1 by default:
    # with other work on the cores, a 2-thread flat search of 10k vectors took 75 ms instead of 0.4 ms (benchmarks.md)
    search_threads: int = 1


class GeneratorSettings(BaseModel):
    backend: str = "llama.cpp"  # llama.cpp | transformers | openai (an OpenAI-compatible HTTP endpoint)
    # Default chosen by measured quality and latency: see docs/benchmarks.md ("Choosing the answer model").
    # For llama.cpp and transformers: a manifest model name; for openai: the model name the endpoint serves.
    model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    endpoint: str | None = None  # openai backend: base URL, e.g. http://127.0.0.1:8080/v1
    api_key: str | None = None  # openai backend: sent as a bearer token when set
    lora_path: Path | None = None  # llama.cpp: a GGUF LoRA adapter applied on top of the base model
    lora_sha256: str | None = None  # the adapter's pinned sha256: a file that differs is refused at load
    # The model version served until `rag models use` picks one (a built-in, packaged or registered id; see "Model
    # versions" in the README). It gives way when the model, adapter, backend or endpoint above is set explicitly.
    # Default: the 1.5B with the adapter this project trained, which beats the 1.5B alone on both held-out sets
    # (docs/benchmarks.md, "Fine-tuning"); empty serves `model` alone.
    version: str | None = "qwen2.5-coder-1.5b-grounded-v1"
    device: str = "auto"  # transformers: auto (cuda when available, else cpu) | cpu | cuda
    hf_cache_dir: Path | None = None  # transformers: dense checkpoints of the GGUFs (default <models dir>/hf)
    timeout_s: float = 120.0  # one generation (and one HTTP call) may take at most this long
    n_ctx: int = 4096
    max_tokens: int = 256
    temperature: float = 0.0
    threads: int = 0  # 0 = all cores (llama.cpp); 0 = torch's default (transformers)
    gpu_layers: int = 0  # llama.cpp: layers offloaded to the GPU
    # llama.cpp: before loading a model, generate a few tokens in a child process, so a build that cannot run on
    # this CPU fails with its reason (503 for answers, search keeps serving) instead of killing the process.
    build_check: bool = True


class ServingSettings(BaseModel):
    max_concurrent: int = 1  # generations running at once (llama.cpp on CPU: 1 is fastest overall)
    queue_size: int = 8  # requests that may wait for a slot; more get 503 with Retry-After
    queue_timeout_s: float = 60.0  # a waiting request gives up (503) after this long


class RetrievalSettings(BaseModel):
    mode: str = "hybrid"  # hybrid | dense | lexical
    fusion: str = "rrf"  # rrf | weighted
    candidates: int = 50  # top-N from each retriever before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 0.5  # tuned on SciFact-train and FinanceBench-dev: see docs/benchmarks.md
    max_per_page: int = 2  # at most this many chunks of one page in the final top-k (0 = no limit)


class AnswerSettings(BaseModel):
    mode: str = "generate"  # generate | extract (verbatim quotes only, no free generation)
    check: bool = True  # verify every cited sentence against its source; drop unsupported ones
    min_support: float = 0.5  # share of a sentence's content words that must appear in the cited source
    # Refuse without generating when the best dense similarity is below this. Calibrated on FinanceBench-dev:
    # answerable questions scored 0.50-0.83, entity-swapped unanswerable ones 0.40-0.62, off-topic ones about 0.1-0.25;
    # 0.4 refuses no answerable question there and leaves a margin for other corpora (docs/benchmarks.md).
    min_retrieval: float = 0.4
    regenerate: bool = True  # when no sentence survives the check, ask the model once more
    max_quotes: int = 3  # extract mode: verbatim sentences or table rows returned
    # Cut each source to its best-matching lines within this many words (0: whole chunks): 22% fewer prompt tokens
    # on FinanceBench-dev at the same answer quality (docs/benchmarks.md).
    source_words: int = 80
    # How table chunks reach the model: rows (" | " cells, one row a line) or html (compact). Rows measured better
    # on FinanceBench-dev: 6 wrong answers of 51 vs 9, cited-page precision 0.125 vs 0.091 (docs/benchmarks.md).
    tables: str = "rows"


class AuthSettings(BaseModel):
    # auto: API keys required unless the server binds a loopback address (127.0.0.1, ::1, localhost)
    required: Literal["auto", "true", "false"] = "auto"
    rate_per_min: int = 120  # requests per minute per API key (token bucket, burst = this many); 0 = no limit


class Source(BaseModel):
    """A folder `rag reindex` keeps the index in step with, and the collection its files go into."""

    path: Path
    collection: str = "default"


class IngestSettings(BaseModel):
    # server-side folders that `POST /v1/documents` may name (JSON list in the environment); none: paths refused
    allowed_roots: list[Path] = Field(default_factory=list)
    # what `rag reindex` rescans: RAG_INGEST__SOURCES='[{"path": "/srv/docs/hr", "collection": "hr"}]'
    sources: list[Source] = Field(default_factory=list)
    reindex_cron: str = ""  # `rag worker` re-indexes the sources on this schedule ("m h dom mon dow", e.g. "15 2 * * *")
    reindex_batch: int = 500  # changed files prepared (parsed, embedded) before they are written together


class JobsSettings(BaseModel):
    queue: Literal["sqlite", "redis"] = "sqlite"  # sqlite: <data dir>/queue.sqlite (one machine); redis: several
    redis_url: str = "redis://localhost:6379/0"
    workers: int = 1  # jobs a `rag worker` runs at once (threads)
    publish_every: int = 20  # files of a job between index publications (the write lock is released between)
    stale_after_s: float = 30.0  # a running job whose worker has not beaten for this long is taken over
    poll_max_s: float = 1.0  # longest pause of an idle worker between looks at the queue
    # inference threads (embedder, OCR and layout models, OpenMP, BLAS) of one `rag worker` process; 0 = every core.
    # With W worker processes on C cores, C / W: two workers on two cores then do not fight over them.
    inference_threads: int = 0


class ParseSettings(BaseModel):
    workers: int = 0  # processes per PDF; 0 = one per core (long PDFs only: at least 50 pages a worker)
    # files parsed at once by a bulk ingest (`rag ingest`), each process loading its models once; 0 = one per core,
    # 1 = in the ingesting process (then long PDFs use `workers`). Embedding stays in the ingesting process.
    processes: int = 0
    threads: int = 0  # ONNX Runtime threads of the OCR, layout and table models; 0 = every core (parse processes: their share)
    ocr_engine: Literal["rapidocr", "tesseract"] = "rapidocr"  # tesseract: the `tesseract` program must be installed
    tesseract_lang: str = "eng"  # tesseract -l value, e.g. "eng+deu" (its language data must be installed)


class ChunkSettings(BaseModel):
    max_words: int = 180
    min_words: int = 8


class Settings(BaseSettings):
    """Every knob of the service. Environment: RAG_DATA_DIR, RAG_GENERATOR__MODEL, ..."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("./var")
    models_dir: Path | None = Field(default=None, description="defaults to <data_dir>/models")
    # registered model versions (adapters, data cards, eval reports) and the `current` pointer; a writable place
    # shared by every process that answers (e.g. under the data volume when the models dir is part of an image)
    versions_dir: Path | None = Field(default=None, description="defaults to <models dir>/versions")
    wheel_cache: Path = Path.home() / ".cache" / "rag" / "wheels"
    top_k: int = 5
    max_upload_mb: int = 200  # per uploaded file
    max_upload_files: int = 100  # files in one upload request
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line, with the request id
    embedder: EmbedderSettings = EmbedderSettings()
    index: IndexSettings = IndexSettings()
    generator: GeneratorSettings = GeneratorSettings()
    chunks: ChunkSettings = ChunkSettings()
    parse: ParseSettings = ParseSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    serving: ServingSettings = ServingSettings()
    auth: AuthSettings = AuthSettings()
    ingest: IngestSettings = IngestSettings()
    jobs: JobsSettings = JobsSettings()

    @property
    def models_path(self) -> Path:
        return Path(self.models_dir) if self.models_dir else Path(self.data_dir) / "models"

    @property
    def versions_path(self) -> Path:
        return Path(self.versions_dir) if self.versions_dir else self.models_path / "versions"
