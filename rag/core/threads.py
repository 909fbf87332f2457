"""CPU threads of one process: how many its inference libraries may use, so several processes share the cores.

Each library keeps its own pool, sized to every core by default: ONNX Runtime (embedder, OCR, layout, tables),
torch, OpenMP and BLAS (numpy, FAISS), the tokenizers (Rayon), OpenCV, and the `tesseract` program. N processes
that each run full pools on the same cores wait at every parallel step for a thread that is descheduled
(docs/benchmarks.md).
ONNX Runtime sessions take their size from settings (`with_threads`); the rest is capped by `limit_threads`.
"""

import os
import sys

from rag.core.settings import Settings

# read when their pools start (so in this process before they load, and in its children): OpenMP (torch, FAISS),
# BLAS (numpy), the tokenizers' Rayon pool, and tesseract (OMP_THREAD_LIMIT)
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS", "OMP_THREAD_LIMIT")


def cores() -> int:
    """Cores this process may run on (its CPU affinity on Linux)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def share(processes: int, total: int | None = None) -> int:
    """Threads for each of `processes` processes sharing `total` cores (default: this process's): at least 1."""
    return max(1, (total or cores()) // max(1, processes))


def with_threads(settings: Settings, threads: int) -> Settings:
    """`settings` with the embedder's and the parse models' ONNX Runtime / torch threads set to `threads`."""
    return settings.model_copy(
        update={
            "embedder": settings.embedder.model_copy(update={"threads": threads}),
            "parse": settings.parse.model_copy(update={"threads": threads}),
        }
    )


def limit_threads(threads: int) -> None:
    """Cap this process's OpenMP, BLAS, torch, tokenizer, OpenCV and tesseract threads at `threads` (call it early: OpenMP
    and BLAS read their variables when they load). ONNX Runtime is sized by the settings (`with_threads`)."""
    for name in THREAD_ENV:
        os.environ[name] = str(threads)
    if "torch" in sys.modules:  # loaded already: tell it directly (else it reads OMP_NUM_THREADS when it loads)
        sys.modules["torch"].set_num_threads(threads)
    if "faiss" in sys.modules:
        sys.modules["faiss"].omp_set_num_threads(threads)
    try:
        import cv2  # OpenCV sizes its pool to every core and reads no variable for it

        cv2.setNumThreads(threads)
    except ImportError:
        pass
