"""Request bodies counted as they arrive: a body or an uploaded file past its limit is refused (413) at the byte that
crosses it, not after it was spooled to disk in full (a chunked upload declares no length)."""

from starlette.datastructures import FormData, Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from api.http.errors import rag_error_response
from rag.core.errors import BadInput, Cancelled, TooLarge

MB = 1024 * 1024
JSON_LIMIT = 16 * MB  # a request body that is not multipart (questions, lists of server-side paths)
MAX_FIELDS = 16  # form fields besides the files (`collection`)


def upload_body(field: str, json_schema: dict | None = None) -> dict:
    """The OpenAPI request body of a route that reads its multipart form itself: files in `field` (plus
    `collection`), or else a JSON body of `json_schema`."""
    content = {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [field],
                "properties": {
                    field: {"type": "array", "items": {"type": "string", "format": "binary"}}
                    if field == "files"
                    else {"type": "string", "format": "binary"},
                    **({"collection": {"type": "string", "default": "default"}} if field == "files" else {}),
                },
            }
        }
    }
    if json_schema is not None:
        content["application/json"] = {"schema": json_schema}
    return {"requestBody": {"required": True, "content": content}}


class _CountingParser(MultiPartParser):
    """Starlette's multipart parser, counting each file's bytes as they are parsed."""

    def __init__(self, headers: Headers, stream, *, file_mb: int, **kw):
        super().__init__(headers, stream, **kw)
        self.file_mb = file_mb
        self._file_bytes = 0

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._file_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current_part
        if part.file is not None:
            self._file_bytes += end - start
            if self._file_bytes > self.file_mb * MB:
                raise TooLarge(f"{part.file.filename or 'a file'}: larger than {self.file_mb} MB")
        super().on_part_data(data, start, end)


async def read_form(request: Request, max_files: int, file_mb: int) -> FormData:
    """The multipart form of `request`, each file stopped at `file_mb` as it arrives (TooLarge, 413); at most
    `max_files` files (TooLarge); a malformed body (no boundary, broken parts) is BadInput (422)."""
    parser = _CountingParser(request.headers, request.stream(), max_files=max_files, max_fields=MAX_FIELDS, file_mb=file_mb)
    try:
        return await parser.parse()
    except ClientDisconnect:
        raise Cancelled("the client went away during the upload") from None
    except MultiPartException as exc:
        if exc.message.startswith("Too many files"):
            raise TooLarge(f"at most {max_files} files in one upload") from None
        raise BadInput(f"malformed multipart body: {exc.message}") from None


class BodyLimit:
    """Pure ASGI: a request body larger than its limit (multipart: `upload_limit`, every upload allowed together;
    else JSON_LIMIT) is refused with 413: at once when its Content-Length says so, else at the byte that crosses it,
    whatever the route was doing with it."""

    def __init__(self, app, upload_limit: int):
        self.app = app
        self.upload_limit = upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        limit = self.upload_limit if headers.get("content-type", "").startswith("multipart/") else JSON_LIMIT
        refusal = rag_error_response(TooLarge(f"request body larger than {limit // MB} MB"))
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return await refusal(scope, receive, send)
        state = {"seen": 0, "over": False, "answered": False}

        async def counted():
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > limit:
                    state["over"] = True
                    raise TooLarge(f"request body larger than {limit // MB} MB")
            return message

        async def answer(message):
            if not state["over"]:
                return await send(message)
            if message["type"] == "http.response.start" and not state["answered"]:
                state["answered"] = True  # whatever the route made of the broken-off body, the answer is 413
                await refusal(scope, receive, send)

        try:
            await self.app(scope, counted, answer)
        except TooLarge:
            if not state["over"] or state["answered"]:
                raise
            await refusal(scope, receive, send)
