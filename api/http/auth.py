"""The API's access check: `Authorization: Bearer KEY` or `X-API-Key: KEY` on every /v1 route, then the key's
rate limit. The decisions themselves (scopes, rights, buckets) live in `rag.service.access`."""

import math

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from rag.core.errors import RateLimited, Unauthorized
from rag.service.access import ANYONE, KeyRing, Principal, RateLimiter

bearer = HTTPBearer(auto_error=False, description="an API key from `rag keys create`")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the same key, as a header")


class Auth:
    """A FastAPI dependency: the request's `Principal` (everyone, when keys are not required and none is sent)."""

    def __init__(self, keys: KeyRing, required: bool, limiter: RateLimiter):
        self.keys = keys
        self.required = required
        self.limiter = limiter

    def __call__(
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(bearer),
        header_key: str | None = Security(api_key_header),
    ) -> Principal:
        token = (credentials.credentials if credentials else None) or header_key
        if not token:
            if self.required:
                raise Unauthorized("an API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
            return ANYONE
        principal = self.keys.authenticate(token)  # a key that is sent is always checked
        if principal.key_id is None:  # authenticate() returns the principal of a stored key, which has an id
            raise Unauthorized("invalid or revoked API key")
        request.state.key_id = principal.key_id
        wait = self.limiter.take(principal.key_id)
        if wait > 0:
            raise RateLimited(
                f"rate limit of {self.limiter.per_min} requests a minute reached for this key",
                retry_after=max(1, math.ceil(wait)),
            )
        return principal
