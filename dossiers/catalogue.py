"""The procedure catalogue: search and CSV import."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core import versions
from core.errors import flatten_messages
from core.extensions import db
from core.text import fold
from core.uow import unit_of_work
from core.versions import VersionedCache
from dossiers import repository
from dossiers.models import Level, Procedure
from dossiers.search import SearchEntry, SearchIndex

CSV_COLUMNS = ["code", "name", "name_en", "level", "sector", "fee_vnd", "fee_note",
               "processing_days", "required_documents", "required_documents_en", "fee_note_vi",
               "national_code", "legal_basis", "source"]


class ProcedureRowSchema(Schema):
    """One row of a catalogue CSV; ``required_documents`` is split on '|'."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9][A-Z0-9.\-]{2,31}$"))
    name = fields.String(required=True, validate=validate.Length(min=3, max=400))
    name_en = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=400))
    level = fields.Enum(Level, by_value=True, required=True, metadata={
        "description": "province or commune; districts were abolished on 1/7/2025"})
    sector = fields.String(required=True, validate=validate.Length(min=1, max=200))
    fee_vnd = fields.Integer(required=True, strict=False, validate=validate.Range(min=0))
    fee_note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    fee_note_vi = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "Optional: the fee note in Vietnamese"})
    processing_days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))
    required_documents = fields.String(load_default="")
    required_documents_en = fields.String(load_default=None, allow_none=True, metadata={
        "description": "Optional: the checklist in English, item for item, split on '|'"})
    national_code = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Regexp(r"^[0-9]\.[0-9]{6}(\.[0-9A-Z.]+)?$"), metadata={
        "description": "Optional: the national portal's code (dichvucong.gov.vn), e.g. 1.001193"})
    legal_basis = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "Optional: the legal documents the procedure rests on, ';'-separated"})
    source = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300), metadata={
        "description": "Optional: where the row's facts come from"})

    @validates_schema
    def same_checklist(self, data, **kwargs):
        english = _split(data.get("required_documents_en"))
        if english and len(english) != len(_split(data.get("required_documents"))):
            raise ValidationError("Must list as many documents as required_documents.", "required_documents_en")


def _split(text: str | None) -> list[str]:
    return [d.strip() for d in (text or "").split("|") if d.strip()]


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


@unit_of_work()
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
        docs = _split(data.pop("required_documents"))
        docs_en = _split(data.pop("required_documents_en", None)) or None
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
        procedure.required_documents_en = docs_en
        procedure.search_text = fold(f"{procedure.name} {procedure.code}")  # the national code: exact match only
        procedure.is_active = True
    if db.session.new or any(db.session.is_modified(p) for p in db.session.dirty):
        versions.bump(versions.PROCEDURES)
    return report


@dataclass(frozen=True)
class _Catalogue:
    """The active procedures, detached from any session, and their search index."""

    by_code: dict[str, Procedure]
    by_id: dict[int, Procedure]
    ordered: list[Procedure]
    index: SearchIndex


def _search_entries(procedures: list[Procedure]) -> list[SearchEntry]:
    """One entry per procedure and language: the Vietnamese name (with the code), and the English
    name where the catalogue has one, each scored on its own so neither dilutes the other."""
    codes = {p.id: tuple(c for c in (p.code, p.national_code) if c) for p in procedures}
    entries = [SearchEntry(p.id, p.code, p.search_text, codes[p.id]) for p in procedures]
    entries += [SearchEntry(p.id, p.code, fold(f"{p.name_en} {p.code}"), codes[p.id])
                for p in procedures if p.name_en]
    return entries


def _build_catalogue() -> _Catalogue:
    procedures = repository.active_procedures_detached()
    return _Catalogue({p.code: p for p in procedures}, {p.id: p for p in procedures}, procedures,
                      SearchIndex(_search_entries(procedures)))


_catalogue = VersionedCache(versions.PROCEDURES, _build_catalogue)


def search(query: str, level: Level | None = None, limit: int = 20) -> list[tuple[Procedure, float | None]]:
    """Procedures matching ``query`` best first; with no query, the catalogue in code order.

    The procedures returned are detached, read-only snapshots: dump them, don't change them.
    """
    catalogue = _catalogue.get()
    if not query.strip():
        return [(p, None) for p in catalogue.ordered if level is None or p.level is level][:limit]
    by_id = catalogue.by_id
    hits = catalogue.index.search(query, limit=len(catalogue.index.entries))
    best: dict[int, float] = {}
    for i, score in hits:  # best first: a procedure's first hit is its best, in either language
        best.setdefault(i, score)
    return [(by_id[i], score) for i, score in best.items() if level is None or by_id[i].level is level][:limit]


def get_active(code: str) -> Procedure | None:
    """The active procedure with this code: a detached, read-only snapshot from the cache."""
    return _catalogue.get().by_code.get(code)
