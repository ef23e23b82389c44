"""API keys: generation, hashing and parsing. A key looks like ``llk_<prefix>_<secret>``; only
its SHA-256 is stored, so a leaked database does not leak usable keys. The prefix is kept in
clear to tell keys apart in lists and audit events."""

from __future__ import annotations

import hashlib
import secrets

KEY_SCHEME = "llk"


def generate_api_key() -> tuple[str, str, str]:
    """A new key as ``(key, prefix, key_hash)``; show ``key`` to its owner once, store the rest."""
    prefix = secrets.token_hex(4)
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
