"""The procedure catalogue: search and CSV import."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError, fields, validate

from core.errors import flatten_messages
from core.extensions import db
from core.text import fold
from dossiers import repository
from dossiers.models import Level, Procedure
from dossiers.search import SearchEntry, SearchIndex

CSV_COLUMNS = ["code", "name", "name_en", "level", "sector", "fee_vnd", "fee_note",
               "processing_days", "required_documents"]


class ProcedureRowSchema(Schema):
    """One row of a catalogue CSV; ``required_documents`` is split on '|'."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9][A-Z0-9.\-]{2,31}$"))
    name = fields.String(required=True, validate=validate.Length(min=3, max=400))
    name_en = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=400))
    level = fields.Enum(Level, by_value=True, required=True)
    sector = fields.String(required=True, validate=validate.Length(min=1, max=200))
    fee_vnd = fields.Integer(required=True, strict=False, validate=validate.Range(min=0))
    fee_note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    processing_days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))
    required_documents = fields.String(load_default="")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[dict] = field(default_factory=list)  # {"line": n, "code": ..., "errors": [...]}


def _clean(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if key is None:
            continue
        value = (value or "").strip()
        out[key.strip()] = value if value != "" else None
    return out


def import_csv(text: str) -> ImportReport:
    """Create or update procedures from CSV text. Bad rows are reported, good rows kept.

    The whole file is one transaction: either every accepted row is written or none.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("code", "name", "level", "sector", "fee_vnd", "processing_days")
               if c not in (reader.fieldnames or [])]
    if missing:
        report.rejected.append({"line": 1, "code": None, "errors": [
            {"field": c, "message_en": "Missing column.", "message_vi": "Thiếu cột."} for c in missing
        ]})
        return report
    schema = ProcedureRowSchema()
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(reader, start=2):
        row = _clean(raw)
        try:
            data = schema.load({k: v for k, v in row.items() if k in CSV_COLUMNS and v is not None})
        except ValidationError as exc:
            report.rejected.append({"line": line_no, "code": row.get("code"),
                                    "errors": flatten_messages(exc.messages, location="csv")})
            continue
        if data["code"] in seen:
            report.rejected.append({"line": line_no, "code": data["code"], "errors": [{
                "field": "code",
                "message_en": f"Duplicate of line {seen[data['code']]}.",
                "message_vi": f"Trùng mã với dòng {seen[data['code']]}.",
            }]})
            continue
        seen[data["code"]] = line_no
        docs = [d.strip() for d in (data.pop("required_documents") or "").split("|") if d.strip()]
        procedure = repository.procedure_by_code(data["code"])
        if procedure is None:
            procedure = Procedure(code=data["code"])
            db.session.add(procedure)
            report.created += 1
        else:
            report.updated += 1
        for key, value in data.items():
            setattr(procedure, key, value)
        procedure.required_documents = docs
        procedure.search_text = fold(f"{procedure.name} {procedure.code}")
        procedure.is_active = True
    db.session.commit()
    return report


class _IndexCache:
    def __init__(self):
        self.key: tuple | None = None
        self.index = SearchIndex([])
        self.lock = threading.Lock()


_cache = _IndexCache()


def _index() -> SearchIndex:
    key = repository.catalogue_stamp()
    with _cache.lock:
        if _cache.key == key:
            return _cache.index
    entries = [SearchEntry(p.id, p.code, p.search_text) for p in repository.active_procedures()]
    index = SearchIndex(entries)
    with _cache.lock:
        _cache.key, _cache.index = key, index
    return index


def search(query: str, level: Level | None = None, limit: int = 20) -> list[tuple[Procedure, float | None]]:
    """Procedures matching ``query`` best first; with no query, the catalogue in code order."""
    if not query.strip():
        procs = [p for p in repository.active_procedures() if level is None or p.level is level]
        return [(p, None) for p in procs[:limit]]
    hits = _index().search(query, limit=limit if level is None else 200)
    by_id = repository.procedures_by_ids([i for i, _ in hits])
    out = [(by_id[i], score) for i, score in hits if i in by_id]
    if level is not None:
        out = [(p, s) for p, s in out if p.level is level]
    return out[:limit]


def get_active(code: str) -> Procedure | None:
    procedure = repository.procedure_by_code(code)
    return procedure if procedure is not None and procedure.is_active else None
