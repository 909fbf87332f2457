"""One settings tree (`RAG_` prefix, nested with `__`), built once and passed down."""

from pathlib import Path

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
    # Default chosen by measured quality and latency: see docs/benchmarks.md ("Choosing the answer model").
    model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    n_ctx: int = 4096
    max_tokens: int = 256
    temperature: float = 0.0
    threads: int = 0  # 0 = all cores
    gpu_layers: int = 0


class RetrievalSettings(BaseModel):
    mode: str = "hybrid"  # hybrid | dense | lexical
    fusion: str = "rrf"  # rrf | weighted
    candidates: int = 50  # top-N from each retriever before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 0.5  # tuned on SciFact-train and FinanceBench-dev: see docs/benchmarks.md
    max_per_page: int = 2  # at most this many chunks of one page in the final top-k (0 = no limit)


class ParseSettings(BaseModel):
    workers: int = 0  # processes per PDF; 0 = one per core (long PDFs only: at least 8 pages a worker)


class ChunkSettings(BaseModel):
    max_words: int = 180
    min_words: int = 8


class Settings(BaseSettings):
    """Every knob of the service. Environment: RAG_DATA_DIR, RAG_GENERATOR__MODEL, ..."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("./var")
    models_dir: Path | None = Field(default=None, description="defaults to <data_dir>/models")
    wheel_cache: Path = Path.home() / ".cache" / "rag" / "wheels"
    top_k: int = 5
    max_upload_mb: int = 200
    embedder: EmbedderSettings = EmbedderSettings()
    index: IndexSettings = IndexSettings()
    generator: GeneratorSettings = GeneratorSettings()
    chunks: ChunkSettings = ChunkSettings()
    parse: ParseSettings = ParseSettings()
    retrieval: RetrievalSettings = RetrievalSettings()

    @property
    def models_path(self) -> Path:
        return Path(self.models_dir) if self.models_dir else Path(self.data_dir) / "models"
