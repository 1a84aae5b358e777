"""API keys: `cexp_<prefix>_<secret>`. The prefix finds the row; only sha256(secret) is stored.

The secret has 256 random bits, so a plain (unsalted) sha256 is enough: there is nothing to
brute-force, unlike a password.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

SCHEME = "cexp"
_PREFIX_BYTES = 4  # 8 hex characters: public, only an index
_SECRET_BYTES = 32
_KEY = re.compile(rf"{SCHEME}_(?P<prefix>[0-9a-f]{{8}})_(?P<secret>[A-Za-z0-9_-]{{43}})")
# Compared against when no key has the prefix, so a miss costs as much as a wrong secret.
_DUMMY_HASH = hashlib.sha256(b"no such key").digest()


@dataclass(frozen=True)
class ApiKey:
    prefix: str
    secret: str

    @property
    def token(self) -> str:
        """What the client sends after `Bearer `; shown once, never stored."""
        return f"{SCHEME}_{self.prefix}_{self.secret}"

    @property
    def secret_hash(self) -> bytes:
        return hash_secret(self.secret)


def generate_key() -> ApiKey:
    return ApiKey(
        prefix=secrets.token_hex(_PREFIX_BYTES), secret=secrets.token_urlsafe(_SECRET_BYTES)
    )


def parse_key(token: str) -> ApiKey | None:
    """The key in a bearer token, or None when the token cannot be one of our keys."""
    match = _KEY.fullmatch(token)
    if match is None:
        return None
    return ApiKey(prefix=match["prefix"], secret=match["secret"])


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(key: ApiKey, stored_hash: bytes | None) -> bool:
    """Constant-time check of a key against the stored hash (None: no key has this prefix)."""
    expected = _DUMMY_HASH if stored_hash is None else stored_hash
    return hmac.compare_digest(key.secret_hash, expected) and stored_hash is not None
