"""Personal data at rest (Decree 13/2023/NĐ-CP): CCCD and phone numbers are stored encrypted.

- ``EncryptedString`` is a column type: the value is encrypted with Fernet (AES-128-CBC and
  HMAC-SHA256, from ``cryptography``) when written and decrypted when read, so the rest of the
  code handles plain values and the database, its backups and its logs hold only ciphertext.
- Encryption is randomised, so equality cannot be searched: each searchable value has a
  *blind index* beside it, ``blind_index(kind, value)``, an HMAC-SHA256 under a separate key.
- Keys come from settings: ``PII_ENCRYPTION_KEYS`` (comma-separated Fernet keys; the first
  encrypts, every one decrypts) and ``PII_HASH_KEY``. Left empty (the embedded default), both
  are generated once into ``$INSTANCE_DIR/pii_keys.json`` (mode 0600).
- Rotation: put a new key first in ``PII_ENCRYPTION_KEYS`` (``flask pii new-key`` prints one),
  keep the old ones after it, run ``flask pii rotate`` (re-encrypts every row under the first
  key and recomputes every blind index under ``PII_HASH_KEY``), then remove the old keys. A new
  hash key is rolled out the same way: change it, then ``flask pii rotate``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

KEY_FILE = "pii_keys.json"


class PiiKeyError(RuntimeError):
    """The configured keys are missing or malformed, or a stored value no key decrypts."""


@dataclass(frozen=True)
class PiiKeys:
    fernet: MultiFernet
    hash_key: bytes


def _from_settings(encryption_keys: str, hash_key: str, instance_dir: Path) -> PiiKeys:
    if not encryption_keys.strip() and not hash_key.strip():
        stored = _load_or_create(instance_dir / KEY_FILE)
        encryption_keys, hash_key = stored["encryption_keys"], stored["hash_key"]
    if not encryption_keys.strip() or not hash_key.strip():
        raise PiiKeyError("Set both PII_ENCRYPTION_KEYS and PII_HASH_KEY, or neither (embedded default).")
    try:
        fernet = MultiFernet([Fernet(key.strip().encode()) for key in encryption_keys.split(",") if key.strip()])
    except ValueError as exc:
        raise PiiKeyError(f"PII_ENCRYPTION_KEYS: each key must be a Fernet key ({exc})") from None
    if len(hash_key.strip()) < 32:
        raise PiiKeyError("PII_HASH_KEY must be at least 32 characters of random text")
    return PiiKeys(fernet, hash_key.strip().encode())


def _load_or_create(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = {"encryption_keys": Fernet.generate_key().decode(), "hash_key": Fernet.generate_key().decode()}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return json.loads(path.read_text(encoding="utf-8"))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(stored, handle)
    return stored


def keys() -> PiiKeys:
    app = current_app._get_current_object()
    found = app.extensions.get("pii_keys")
    if found is None:
        found = app.extensions["pii_keys"] = _from_settings(
            app.config.get("PII_ENCRYPTION_KEYS", ""), app.config.get("PII_HASH_KEY", ""), Path(app.instance_path))
    return found


def encrypt(value: str) -> str:
    return keys().fernet.encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return keys().fernet.decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise PiiKeyError("A stored personal value cannot be decrypted with PII_ENCRYPTION_KEYS "
                          "(a key was removed before `flask pii rotate`?)") from None


def rotate(token: str) -> str:
    """The same value encrypted under the first key."""
    return keys().fernet.rotate(token.encode("ascii")).decode("ascii")


def blind_index(kind: str, value: str) -> str:
    """A keyed hash of a normalised value (``kind``: "cccd", "phone"), for equality search."""
    return hmac.new(keys().hash_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


class EncryptedString(TypeDecorator):
    """A text column stored as a Fernet token (about 100 characters for a phone or CCCD)."""

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(str(value))

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


def rotate_table(session, table: str, columns: dict[str, str], batch: int = 500) -> int:
    """Re-encrypt ``columns`` (name → blind-index kind) of every row of ``table`` under the first key,
    recomputing each ``<column>_hash``; returns the rows rewritten. The caller commits."""
    from sqlalchemy import text

    names = ", ".join(columns)
    sets = ", ".join(f"{c} = :{c}, {c}_hash = :{c}_hash" for c in columns)
    done, last_id = 0, 0
    while True:
        rows = session.execute(text(f"SELECT id, {names} FROM {table} WHERE id > :last "  # noqa: S608 - fixed names
                                    "ORDER BY id LIMIT :n"), {"last": last_id, "n": batch}).all()
        if not rows:
            return done
        for row in rows:
            values = {"id": row.id}
            for column, kind in columns.items():
                token = getattr(row, column)
                values[column] = None if token is None else rotate(token)
                values[f"{column}_hash"] = None if token is None else blind_index(kind, decrypt(token))
            session.execute(text(f"UPDATE {table} SET {sets} WHERE id = :id"), values)  # noqa: S608
            done, last_id = done + 1, row.id
