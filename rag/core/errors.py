"""One error root for the whole service; translated to HTTP status or exit codes only at the edges."""


class RagError(Exception):
    """Root of every error the service raises on purpose. `status` is the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(RagError):
    """The caller sent something we cannot use (a bad file, a malformed request): 422 everywhere in the API."""

    status = 422


class Unauthorized(RagError):
    """No API key, or one that is unknown or revoked."""

    status = 401


class Forbidden(RagError):
    """A valid API key asked for a collection or a right it does not have."""

    status = 403


class RateLimited(RagError):
    """The API key sent more requests than its rate allows; retry after `retry_after` seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(RagError):
    """A path, document or model that does not exist."""

    status = 404


class UnsupportedType(BadInput):
    """The file's content is of a type we do not read."""

    status = 415


class CorruptFile(BadInput):
    """The file claims a type we read but its content is broken."""

    status = 422


class EncryptedFile(BadInput):
    """The file is password protected."""

    status = 422


class EmptyFile(BadInput):
    """The file has no bytes, or no readable content."""

    status = 422


class ModelError(RagError):
    """A model is missing, unassembled, or fails its checksum."""

    status = 503


class HashMismatch(ModelError):
    """A model file's sha256 differs from the manifest: it is refused."""


class MissingExtra(RagError):
    """An optional package needed by the chosen backend is not installed."""

    status = 503


class TooLarge(BadInput):
    """The upload exceeds the configured size limit."""

    status = 413


class Busy(RagError):
    """Every generation slot is taken and the waiting queue is full (or the wait ran out)."""

    status = 503

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message)
        self.retry_after = retry_after


class Cancelled(RagError):
    """The caller went away (a closed connection); the work was stopped."""

    status = 499


class TimedOut(RagError):
    """The request took longer than its time limit; the generation was stopped."""

    status = 504


class GeneratorError(RagError):
    """The generator backend failed: an endpoint answered with an error or broke off mid-answer."""

    status = 502


class GeneratorUnavailable(GeneratorError):
    """The generator endpoint cannot be reached (connection refused, unknown host)."""

    status = 503


class GeneratorTimeout(GeneratorError):
    """The generator did not answer within `RAG_GENERATOR__TIMEOUT_S`."""

    status = 504


class IndexMismatch(RagError):
    """The live index was built by another embedder (model, weights or backend) than the one configured."""

    status = 409


class ParseLimit(BadInput):
    """A file over a parse limit: more pages than allowed, a page image too large, or a parse past its time budget."""

    status = 422
