"""The tablet pages' static files: versioned URLs, the module graph, and the service worker's list.

One version covers the whole static tree (a hash of every file in it), so a page and every module it
imports come from the same deploy: modules import each other by relative URL, which then stays inside
the same ``/portal/static/v/<version>/`` prefix. Files under a current version's URL are cached for a
year (immutable); a deploy changes the version and so every URL. Re-read only when a file changes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
SKIP_DIRS = {"tests"}  # the node --test unit tests are not served to tablets' caches
# `import … from "./x.js"`, `import "./x.js"`, `export … from "./x.js"`: our own modules use relative specifiers.
IMPORT_RE = re.compile(r"""^\s*(?:import|export)\s+(?:[^"';]*?\s+from\s+)?["'](\.{1,2}/[^"']+)["']""", re.M)


@dataclass(frozen=True)
class Tree:
    version: str
    files: tuple[str, ...]  # posix paths relative to STATIC_DIR


def _listing() -> tuple[tuple[str, int, int], ...]:
    entries = []
    for path in sorted(STATIC_DIR.rglob("*")):
        relative = path.relative_to(STATIC_DIR)
        if path.is_file() and not (set(relative.parts[:-1]) & SKIP_DIRS):
            stat = path.stat()
            entries.append((relative.as_posix(), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


def tree() -> Tree:
    return _tree(_listing())


@lru_cache(maxsize=4)
def _tree(listing: tuple[tuple[str, int, int], ...]) -> Tree:
    digest = hashlib.sha256()
    for name, _mtime, _size in listing:
        digest.update(name.encode() + b"\0" + (STATIC_DIR / name).read_bytes() + b"\0")
    return Tree(version=digest.hexdigest()[:16], files=tuple(name for name, _m, _s in listing))


def module_graph(entry: str) -> list[str]:
    """The entry module and every module it imports, directly or not (for <link rel=modulepreload>)."""
    return list(_graph(entry, tree().version))


@lru_cache(maxsize=16)
def _graph(entry: str, _version: str) -> tuple[str, ...]:
    seen: list[str] = []
    todo = [entry]
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        path = (STATIC_DIR / name).resolve()
        if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
            raise FileNotFoundError(f"{name}: imported by the tablet's modules but not in {STATIC_DIR}")
        seen.append(name)
        base = Path(name).parent
        for spec in IMPORT_RE.findall(path.read_text(encoding="utf-8")):
            todo.append((STATIC_DIR / base / spec).resolve().relative_to(STATIC_DIR.resolve()).as_posix())
    return tuple(seen)


def file_hash(path: Path) -> str:
    return _file_hash(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _file_hash(path: Path, _mtime: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
