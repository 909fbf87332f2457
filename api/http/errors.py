"""One error shape for every 4xx and 5xx of the API: JSON `{"detail": "one line"}` (the request id is added by
`api.http.observe` to every response, errors included).

The service's own errors (`RagError`) carry their status; FastAPI's request validation becomes 422 with the first
problem in one line (never echoing the input, which may not even be encodable: a lone surrogate); Starlette's
HTTP errors (404 for an unknown route, 405) keep their status with a one-line detail.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.core.errors import RagError, Unauthorized

MAX_DETAIL = 300  # characters of a detail


def one_line(text: str) -> str:
    """`text` as one line of valid UTF-8 (a lone surrogate is written as its escape), at most MAX_DETAIL long."""
    line = " ".join(str(text).split())
    line = line.encode("utf-8", "backslashreplace").decode("utf-8")
    return line if len(line) <= MAX_DETAIL else line[: MAX_DETAIL - 3] + "..."


def error_response(status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": one_line(detail)}, headers=headers or None)


def rag_error_response(exc: RagError) -> JSONResponse:
    """The error's status and message; Retry-After for 429/503, WWW-Authenticate for 401."""
    headers = {}
    retry_after = getattr(exc, "retry_after", None)  # RateLimited and Busy carry one
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(exc.status, exc.message, headers)


def validation_detail(errors) -> str:
    """The first validation error in one line: where (`filters.page_to`), then what pydantic says about it."""
    if not errors:
        return "malformed request"
    first = errors[0]
    if first.get("type") == "json_invalid":
        return f"the body is not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})"
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'body'}: {first.get('msg', 'invalid')}{more}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        return rag_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return error_response(422, validation_detail(exc.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))
