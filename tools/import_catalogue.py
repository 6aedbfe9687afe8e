#!/usr/bin/env python3
"""Build the platform's procedure catalogue from its sources, and say what is unsourced.

    python tools/import_catalogue.py            # writes dossiers/data/procedures.csv and catalogue_report.md
    python tools/import_catalogue.py --check    # exit 1 if the committed files differ from a fresh build

Sources (copied into the project, never read from elsewhere at run time):

* ``dossiers/data/catalogue_sources/hand_checked.csv``: the 46 procedures checked by hand, in the
  platform's columns (the catalogue before this importer).
* ``dossiers/data/catalogue_sources/dichvucong_*.jsonl``: procedure records of the national public
  service portal (dichvucong.gov.vn), one JSON object a line, with the portal's own field names
  (``ma_thu_tuc``, ``ten_thu_tuc``, ``cap_thuc_hien``, ``linh_vuc``, ``cach_thuc_thuc_hien``,
  ``thanh_phan_ho_so``, ``can_cu_phap_ly``, ...). ``SOURCES.md`` says where each file comes from.

Rules, each one written into the report:

* Level after the 2025 reform. Districts were abolished on 1/7/2025 (two-level local government):
  the Government's decrees dividing competences between the two levels (for justice, Decree
  120/2025/NĐ-CP and Circular 08/2025/TT-BTP, both cited by the portal's records) hand most
  former district-level procedures to the commune People's Committee. A ``Cấp huyện``/``district``
  procedure is therefore mapped to ``commune`` unless ``DISTRICT_TO_PROVINCE`` names it, and every
  mapped row is listed in the report for review. Central-level procedures (``Cấp bộ``) are not
  done at Hanoi's points and are skipped (listed).
* Fee: the portal's in-person fee; a reduced rate the record states ("áp dụng mức phí ... đồng")
  wins; an amount under 1,000 VND, a foreign currency, or a fee "set by the provincial People's
  Council" with no amount is not a sourced amount. An unsourced fee is 0 with fee_note "unsourced".
  A hand-checked fee marked "illustrative", or citing a People's Council resolution with no number,
  is unsourced too (its old value is kept in the report).
* Merge, not overwrite: a portal record with the same name (diacritics and a leading "Thủ tục"
  ignored) as a hand-checked row updates that row, which keeps its platform code (dossiers refer to
  it), its name, English text and hand-checked checklist; the portal brings the national code, level,
  sector, legal basis, processing time and, when it states one, the fee.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.text import fold  # noqa: E402

DATA = ROOT / "dossiers" / "data"
SOURCES = DATA / "catalogue_sources"
HAND_CHECKED = SOURCES / "hand_checked.csv"
OUTPUT_CSV = DATA / "procedures.csv"
OUTPUT_REPORT = DATA / "catalogue_report.md"

COLUMNS = ["code", "name", "name_en", "level", "sector", "fee_vnd", "fee_note", "processing_days",
           "required_documents", "required_documents_en", "fee_note_vi", "national_code", "legal_basis",
           "source"]

# Former district-level procedures the 2025 decrees gave to the province rather than the commune
# (national code or platform code → the reason). None is known among the current sources.
DISTRICT_TO_PROVINCE: dict[str, str] = {}

# National procedures, at a provincial or commune level on the portal, that Hanoi's one-stop points do not
# receive: (words in the folded name or sector, why). Each skipped record is listed in the report.
NOT_AT_HANOI_POINTS: list[tuple[tuple[str, ...], str]] = [
    (("khu vuc bien gioi", "bien gioi nuoc lang gieng"), "for a land-border area: Hanoi has no land border"),
    (("bien va hai dao", "nhan chim o bien"), "the sea and islands: Hanoi has no coast"),
    (("hai quan",), "customs: received by the customs offices (Chi cục Hải quan), not at the centre's points"),
    (("bhxh", "bhyt", "bao hiem xa hoi", "bao hiem y te"),
     "social and health insurance: received by Vietnam Social Security's offices, not at the centre's points"),
]

UNSOURCED_EN = "unsourced"
UNSOURCED_VI = "chưa có nguồn"
REFORM_NOTE = ("districts abolished 1/7/2025; competence given to the commune by the two-level "
               "government decrees (e.g. 120/2025/NĐ-CP, 08/2025/TT-BTP)")
MIN_PLAUSIBLE_FEE = 1_000
MAX_PROCESSING_DAYS = 365  # as the platform's catalogue accepts
MAX_LEGAL_BASIS = 1000
MAX_NOTE = 200
MAX_DOCUMENT = 250

# Kinds of finding, in the report's order, with their heading.
KINDS = {
    "skipped": "Skipped (not a Hanoi procedure, or not importable)",
    "level_mapped": "District level mapped to commune (2025 reform)",
    "level_missing": "No level in the source",
    "fee_unsourced": "Fee unsourced (0 VND, fee_note \"unsourced\")",
    "fee_suspect": "Fee in the source not usable",
    "legal_basis_missing": "No legal basis",
    "documents_missing": "No required documents",
    "untranslated": "No English name (shown in Vietnamese)",
    "merged": "Hand-checked rows merged with a portal record",
}


@dataclass
class Finding:
    kind: str
    code: str
    name: str
    detail: str = ""


@dataclass
class Build:
    rows: list[dict]
    findings: list[Finding] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)


# ---------------------------------------------------------------------------------------------
# Parsing the portal's text fields
# ---------------------------------------------------------------------------------------------

_CHANNEL = re.compile(r"(Trực tiếp|Trực tuyến|Dịch vụ bưu chính)")
_TIME = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:Ngày làm việc|Ngày|ngày)?\s*")
_AMOUNT = re.compile(r"^([\d.,]+)\s*(?:VNĐ|VND|Việt Nam Đồng|đồng|Đồng)")
_REDUCED = re.compile(r"áp dụng mức (?:lệ )?phí ([\d.]+) đồng")
# A legal document number: 04/2020/TT-BTP, 123/2015/NĐ-CP, 66.7/2025/NQ-CP, 52/2014/QH13 ... The
# portal glues names and numbers together ("...Luật Hộ tịch123/2015/NĐ-CPThông tư..."): an issuer
# part may not run into the next name's capital ("NĐ-CPNghị" → "NĐ-CP").
_LEGAL_CODE = re.compile(
    r"(?<!\d)(?<!\d\.)(\d{1,4}(?:\.\d{1,2})?/\d{4}/(?:QH\d{2}|[A-ZĐ]+(?![a-zà-ỹđ])(?:-(?:TTg|[A-ZĐ]+(?![a-zà-ỹđ])))*))")
_QH_GLUED = re.compile(r"(QH\d{2})(?=\d)")
_DOC_SECTION = re.compile(r"\*\s*(Giấy tờ phải nộp|Giấy tờ phải xuất trình|Lưu ý)\s*:|--")
_DOC_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
_QUANTITY = re.compile(r"(\d+\s*bản chính(?:\s*,\s*\d+\s*bản sao)?|\d+\s*bản sao)")
_TEMPLATE_FILE = re.compile(r"^(.*)(?:\d+-)?Mẫu[^()]{0,40}?(?:\(\d+\))?\.(?:docx?|pdf|xlsx?)$")  # the last "Mẫu"
# Where a template's file name glued to the end of an item may start ("…theo mẫuTK 1.001023 (all).docx",
# "…quy định;văn bản đề nghị.docx", "…nền trắng.mau so 12 (1).doc", "…ban hànhMẫu số 01-PLIII-LS.docx").
_FILE_EXT = re.compile(r"\.(?:docx?|pdf|xlsx?)$")
_GLUED_FILES = re.compile(r"(\.(?:docx?|pdf|xlsx?))\S+\.(?:docx?|pdf|xlsx?)$")
_FILE_START = re.compile(r"theo mẫu|quy định|điện tử|;|(?<=[^\W\d_])\.")
MAX_FILE_NAME = 70
_SPACES = re.compile(r"\s+")


def legal_codes(text: str) -> list[str]:
    """The document numbers cited in a ``can_cu_phap_ly`` text, first citation first, each once."""
    seen: dict[str, None] = {}
    for code in _LEGAL_CODE.findall(_QH_GLUED.sub(r"\1 ", text or "")):
        seen.setdefault(code, None)
    return list(seen)


def _channels(text: str) -> dict[str, str]:
    parts = _CHANNEL.split(text or "")
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _in_person(text: str) -> str | None:
    channels = _channels(text)
    return channels.get("Trực tiếp") or next(iter(channels.values()), None)


def processing_days(text: str) -> int | None:
    """Working days for an in-person filing (rounded up), from ``cach_thuc_thuc_hien``."""
    segment = _in_person(text)
    match = _TIME.match(segment or "")
    if not match or _AMOUNT.match(segment.lstrip()):  # "1100 VNĐ": the time glued to the fee, not separable
        return None
    days = max(1, math.ceil(float(match.group(1).replace(",", "."))))
    return days if days <= MAX_PROCESSING_DAYS else None


@dataclass(frozen=True)
class Fee:
    amount: int | None  # None: the source gives no usable amount
    note_en: str
    note_vi: str
    problem: str = ""  # why an amount in the source was not used


def _clip(text: str, limit: int = MAX_NOTE) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def parse_fee(text: str, national_code: str) -> Fee:
    """The state fee for an in-person filing, from the portal's ``cach_thuc_thuc_hien``."""
    segment = _in_person(text)
    if segment is None:
        return Fee(None, UNSOURCED_EN, UNSOURCED_VI)
    rest = _TIME.sub("", segment, count=1)
    description = rest[rest.find("("):].strip("() ") if "(" in rest else ""
    refs = [c for c in legal_codes(description) if "BTC" in c or "HĐND" in c]
    per = f" per {', '.join(refs)}" if refs else ""
    per_vi = f" theo {', '.join(refs)}" if refs else ""
    where = f"national portal {national_code}"
    if "Hội đồng nhân dân" in description:
        return Fee(None, _clip(f"{UNSOURCED_EN}: set by the Hanoi People's Council, no amount in the {where}"),
                   _clip(f"{UNSOURCED_VI}: mức do HĐND thành phố quyết định, Cổng DVC quốc gia không ghi mức"))
    reduced = _REDUCED.search(rest)
    if reduced:
        amount = int(reduced.group(1).replace(".", ""))
        return Fee(amount, _clip(f"{amount} VND, reduced rate ({where}){';' + per if per else ''}"),
                   _clip(f"Mức thu giảm {reduced.group(1)} đồng (Cổng DVC quốc gia {national_code})"
                         f"{';' + per_vi if per_vi else ''}"))
    if rest.startswith(("Miễn phí", "Miễn lệ phí", "Không thu")):
        return Fee(0, _clip(f"exempt ({where}){'; copies' + per if per else ''}"),
                   _clip(f"Miễn lệ phí (Cổng DVC quốc gia {national_code}){'; bản sao' + per_vi if per_vi else ''}"))
    amount = _AMOUNT.match(rest)
    if amount:
        value = int(re.sub(r"[.,]", "", amount.group(1)))
        if value < MIN_PLAUSIBLE_FEE:
            return Fee(None, _clip(f"{UNSOURCED_EN}: the {where} lists {value} VND, not a plausible amount"),
                       _clip(f"{UNSOURCED_VI}: Cổng DVC quốc gia ghi {value} đồng, không hợp lý"),
                       f"{value} VND listed")
        return Fee(value, _clip(f"{value} VND ({where}){';' + per if per else ''}"),
                   _clip(f"{value} đồng (Cổng DVC quốc gia {national_code}){';' + per_vi if per_vi else ''}"))
    if "USD" in rest[:20]:
        shown = rest.split("(")[0].strip()
        return Fee(None, _clip(f"{UNSOURCED_EN}: the {where} lists {shown}, not in VND"),
                   _clip(f"{UNSOURCED_VI}: Cổng DVC quốc gia ghi {shown}, không phải đồng"), f"{shown} listed")
    return Fee(None, _clip(f"{UNSOURCED_EN}: no fee in the {where}"),
               _clip(f"{UNSOURCED_VI}: Cổng DVC quốc gia không ghi lệ phí"))


# Where a checklist item's explanation starts: the item is what comes before.
_EXPLANATION = re.compile(r"\. | \(sau đây| trong trường hợp |; trường hợp ")


def _strip_template_file(text: str) -> str:
    """The item without the template files' names glued to its end (some items have two)."""
    for _ in range(3):
        text = _GLUED_FILES.sub(r"\1", text)  # "…Mus01.docxPhlcIV.docx": the second goes first
        ext = _FILE_EXT.search(text)
        if ext is None:
            break
        starts = [m.end() for m in _FILE_START.finditer(text, 0, ext.start()) if m.end() < ext.start()]
        starts += [i for i in range(1, ext.start())
                   if text[i].isupper() and (text[i - 1].islower() or text[i - 1] == ")")]
        # A file name glued to an abbreviation: "…NĐ-CPmau so 12.doc", "…TT-BNNMTMẫu số 03.docx".
        starts += [i - 1 if text.startswith(("Mẫu", "Mau"), i - 1) else i for i in range(2, ext.start())
                   if text[i].islower() and text[i - 1].isupper() and text[i - 2].isupper()]
        start = max(starts, default=None)
        if start is not None and len(text) - start <= MAX_FILE_NAME:
            text = text[:start]
        else:
            text = _TEMPLATE_FILE.sub(r"\1", text)
    return text


def _document(text: str) -> str:
    text = _strip_template_file(_SPACES.sub(" ", text).strip()).strip()
    text = text.lstrip("-+ ").rstrip(";: ").strip()
    cut = next((m.start() for m in _EXPLANATION.finditer(text) if m.start() >= 10), None)
    return _clip(text[:cut] if cut else text, MAX_DOCUMENT).rstrip(".,; ")


def required_documents(text: str) -> list[str]:
    """The papers to file or show, from ``thanh_phan_ho_so``: items with a non-zero quantity, notes
    ("* Lưu ý") and zero-quantity explanations left out, template file names dropped."""
    parts = _DOC_SECTION.split(text or "")
    # parts: [before, header-or-None, body, header-or-None, body, ...]; "--" gives None. A record without
    # those headings is one body of tables.
    sections = list(zip(parts[1::2], parts[2::2], strict=True)) if len(parts) > 1 else [(None, parts[0])]
    documents: dict[str, str] = {}
    for header, body in sections:
        if header == "Lưu ý":
            continue
        # Each table starts with its column headings, after its caption ("* Trường hợp cấp lại…",
        # "Hồ sơ … gồm:"), which the previous item's quantity leaves glued to the table's first item.
        pieces = _QUANTITY.split(body.replace(_DOC_HEADER, "\x00"))
        for item, quantity in zip(pieces[0::2], pieces[1::2], strict=False):
            item = item.rsplit("\x00", 1)[-1]
            if not any(int(n) for n in re.findall(r"\d+", quantity)) or item.strip().startswith("*"):
                continue
            document = _document(item)
            if len(document) >= 3:
                documents.setdefault(fold(document), document)
    return list(documents.values())


def procedure_name(portal_name: str) -> str:
    name = _SPACES.sub(" ", portal_name).strip()
    if fold(name).startswith("thu tuc "):
        name = name[len("Thủ tục "):].strip()
        name = name[:1].upper() + name[1:]
    return name


def portal_level(text: str) -> tuple[str | None, str]:
    """(platform level or None, how it was decided) from ``cap_thuc_hien``."""
    levels = {fold(part) for part in re.split(r"[,;]", text or "") if part.strip()}
    if "cap xa" in levels:
        return "commune", ""
    if "cap huyen" in levels:
        return "commune", "mapped"
    if "cap tinh" in levels:
        return "province", ""
    if levels & {"cap bo", "cap trung uong"}:
        return None, "central"
    return None, ""


# ---------------------------------------------------------------------------------------------
# Building the catalogue
# ---------------------------------------------------------------------------------------------

def _unsourced_hand_fee(note: str | None) -> bool:
    note = (note or "").lower()
    return "illustrative" in note or ("resolution" in note and not re.search(r"\d+/\d{4}/", note))


def _hand_rows(text: str, build: Build) -> list[dict]:
    rows = []
    for raw in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        row = {c: (raw.get(c) or "").strip() for c in COLUMNS}
        row["source"] = row["source"] or f"hand-checked ({HAND_CHECKED.relative_to(ROOT).as_posix()})"
        if row["level"] == "district":
            override = DISTRICT_TO_PROVINCE.get(row["code"])
            row["level"] = "province" if override else "commune"
            build.findings.append(Finding("level_mapped", row["code"], row["name"],
                                          override or f"district → commune: {REFORM_NOTE}"))
        if _unsourced_hand_fee(row["fee_note"]):
            build.findings.append(Finding("fee_unsourced", row["code"], row["name"],
                                          f"was {row['fee_vnd']} VND, \"{row['fee_note']}\""))
            row["fee_vnd"], row["fee_note"], row["fee_note_vi"] = "0", UNSOURCED_EN, UNSOURCED_VI
        rows.append(row)
    return rows


def _merge(hand: dict, record: dict, new: dict, build: Build) -> None:
    """The portal record ``new`` (already mapped) updates the hand-checked row ``hand`` in place."""
    taken = []
    for key in ("national_code", "legal_basis", "source", "sector"):
        if new[key]:
            hand[key] = new[key]
            taken.append(key)
    if new["level"]:
        if new["level"] != hand["level"]:
            taken.append(f"level {hand['level']} → {new['level']}")
        hand["level"] = new["level"]
    if new["processing_days"]:
        if new["processing_days"] != hand["processing_days"]:
            taken.append(f"processing days {hand['processing_days']} → {new['processing_days']}")
        hand["processing_days"] = new["processing_days"]
    if new["fee_vnd"] != "" or hand["fee_note"] == UNSOURCED_EN:  # a stated fee, or a better "unsourced" note
        hand["fee_vnd"] = new["fee_vnd"] or "0"
        hand["fee_note"], hand["fee_note_vi"] = new["fee_note"], new["fee_note_vi"]
        taken.append("fee" if new["fee_vnd"] != "" else "fee note")
    if not hand["required_documents"] and new["required_documents"]:
        hand["required_documents"], hand["required_documents_en"] = new["required_documents"], ""
        taken.append("documents")
    build.findings.append(Finding("merged", hand["code"], hand["name"],
                                  f"with {record['ma_thu_tuc']}: {', '.join(taken)}"))


def _portal_row(record: dict, build: Build) -> dict | None:
    code = record["ma_thu_tuc"].strip()
    name = procedure_name(record.get("ten_thu_tuc", ""))
    level, how = portal_level(record.get("cap_thuc_hien", ""))
    words = f" {fold(name)} | {fold(record.get('linh_vuc', ''))} "  # matched as whole words ("phai quan ly")
    elsewhere = next((why for keys, why in NOT_AT_HANOI_POINTS if any(f" {k} " in words for k in keys)), None)
    decision = record.get("so_quyet_dinh", "").strip()
    if elsewhere is None and decision.endswith("QĐ-UBND"):
        elsewhere = f"published by a province's own decision ({decision}), not a national procedure of Hanoi's"
    if elsewhere:
        build.findings.append(Finding("skipped", code, name, elsewhere))
        return None
    if how == "central":
        level_text = record["cap_thuc_hien"]
        build.findings.append(Finding("skipped", code, name,
                                      f"level \"{level_text}\": done by a ministry, not at Hanoi's points"))
        return None
    if how == "mapped":
        override = DISTRICT_TO_PROVINCE.get(code)
        level = "province" if override else "commune"
        build.findings.append(Finding("level_mapped", code, name, override or f"Cấp huyện → commune: {REFORM_NOTE}"))
    fee = parse_fee(record.get("cach_thuc_thuc_hien", ""), code)
    documents = required_documents(record.get("thanh_phan_ho_so", ""))
    days = processing_days(record.get("cach_thuc_thuc_hien", ""))
    return {
        "code": code, "name": name, "name_en": "", "level": level or "",
        "sector": _SPACES.sub(" ", record.get("linh_vuc", "")).strip(),
        "fee_vnd": "" if fee.amount is None else str(fee.amount),
        "fee_note": fee.note_en, "fee_note_vi": fee.note_vi, "fee_problem": fee.problem,
        "processing_days": str(days) if days else "",
        "required_documents": " | ".join(d.replace("|", "/") for d in documents), "required_documents_en": "",
        "national_code": code, "legal_basis": _clip("; ".join(legal_codes(record.get("can_cu_phap_ly", ""))),
                                                     MAX_LEGAL_BASIS),
        "source": (record.get("detail_url") or f"dichvucong.gov.vn {code}").strip(),
    }


def build_catalogue(hand_text: str, portal_records: list[dict], sources: list[str] | None = None) -> Build:
    build = Build(rows=[], sources=list(sources or []))
    rows = _hand_rows(hand_text, build)
    by_name = {fold(procedure_name(r["name"])): r for r in rows}
    by_code = {r["code"]: r for r in rows}
    added: list[dict] = []
    for record in portal_records:
        new = _portal_row(record, build)
        if new is None:
            continue
        problem = new.pop("fee_problem")
        hand = by_name.get(fold(new["name"])) or by_code.get(new["code"])
        if hand is not None:
            _merge(hand, record, new, build)
            if problem and hand["fee_note"] == UNSOURCED_EN:
                build.findings.append(Finding("fee_suspect", hand["code"], hand["name"], problem))
            continue
        if problem:
            build.findings.append(Finding("fee_suspect", new["code"], new["name"], problem))
        if not new["level"]:
            build.findings.append(Finding("level_missing", new["code"], new["name"],
                                          f"\"{record.get('cap_thuc_hien', '')}\"; not imported"))
            continue
        if not new["processing_days"]:
            build.findings.append(Finding("skipped", new["code"], new["name"],
                                          "no processing time readable in the source"))
            continue
        if not new["required_documents"]:
            build.findings.append(Finding("skipped", new["code"], new["name"], "no checklist readable in the source"))
            continue
        if new["fee_vnd"] == "":
            new["fee_vnd"] = "0"
        added.append(new)
        by_code[new["code"]] = new
    build.rows = rows + sorted(added, key=lambda r: r["code"])
    for row in build.rows:
        if row["fee_note"].startswith(UNSOURCED_EN) and not any(
                f.kind == "fee_unsourced" and f.code == row["code"] for f in build.findings):
            build.findings.append(Finding("fee_unsourced", row["code"], row["name"], row["fee_note"]))
        if not row["legal_basis"]:
            build.findings.append(Finding("legal_basis_missing", row["code"], row["name"]))
        if not row["required_documents"]:
            build.findings.append(Finding("documents_missing", row["code"], row["name"]))
        if not row["name_en"]:
            build.findings.append(Finding("untranslated", row["code"], row["name"]))
    return build


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def to_csv(build: Build) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(build.rows)
    return out.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def to_report(build: Build) -> str:
    levels = {level: sum(1 for r in build.rows if r["level"] == level) for level in ("province", "commune")}
    portal = sum(1 for r in build.rows if r["national_code"])
    lines = [
        "# Procedure catalogue: importer report",
        "",
        "Written by `tools/import_catalogue.py` from the files in `dossiers/data/catalogue_sources/`; "
        "do not edit by hand (`python tools/import_catalogue.py` rewrites it, `--check` verifies it).",
        "",
        "## Summary",
        "",
        f"- Procedures written: {len(build.rows)} (province {levels['province']}, commune {levels['commune']}, "
        f"district 0)",
        f"- With a national portal record: {portal}; hand-checked only: {len(build.rows) - portal}",
        f"- Skipped: {build.count('skipped')}; district mapped to commune: {build.count('level_mapped')}",
        f"- Unsourced: fee {build.count('fee_unsourced')}, legal basis {build.count('legal_basis_missing')}, "
        f"level {build.count('level_missing')}; no English name: {build.count('untranslated')}",
        "- The real catalogue of Hanoi has about 1,726 procedures; this build holds the ones whose source "
        "is in the project (see SOURCES.md for what was searched and found).",
        "",
        "## Sources",
        "",
        *[f"- {s}" for s in build.sources],
        "",
        "## Rules",
        "",
        f"- Level: `Cấp xã` → commune, `Cấp tỉnh` → province, `Cấp huyện`/district → commune ({REFORM_NOTE}); "
        "`Cấp bộ` skipped, and so are the procedures Hanoi's points do not receive (`NOT_AT_HANOI_POINTS`: land "
        "border, sea, customs, social insurance; and another province's own, published by its `QĐ-UBND`). "
        "No procedure is written at district level. Each mapped row is listed below for review against its "
        "sector's decree (`DISTRICT_TO_PROVINCE` sends one to the province instead).",
        "- Fee: the portal's in-person fee; a stated reduced rate wins; under 1,000 VND, a foreign currency, or "
        "\"set by the People's Council\" without an amount is unsourced. Unsourced → 0 VND, fee_note "
        "\"unsourced\". Hand-checked fees marked \"illustrative\" or citing an unnumbered resolution are unsourced.",
        "- Merge: same name (diacritics and a leading \"Thủ tục\" ignored) → the hand-checked row keeps its "
        "code, name, English text and checklist; the portal brings national code, level, sector, legal basis, "
        "processing time and a stated fee.",
        "- Legal basis: the document numbers the portal's \"Căn cứ pháp lý\" cites, in its order.",
        "",
    ]
    for kind, heading in KINDS.items():
        found = [f for f in build.findings if f.kind == kind]
        lines += [f"## {heading} ({len(found)})", ""]
        if found:
            lines += ["| code | procedure | detail |", "|---|---|---|"]
            lines += [f"| {f.code} | {_cell(f.name)} | {_cell(f.detail)} |" for f in found]
        else:
            lines.append("None.")
        lines.append("")
    return "\n".join(lines)


def load_sources(sources: Path = SOURCES) -> tuple[str, list[dict], list[str]]:
    hand_text = (sources / "hand_checked.csv").read_text(encoding="utf-8")
    records, described = [], [f"`{(sources / 'hand_checked.csv').relative_to(ROOT).as_posix()}`: "
                              "hand-checked rows (the catalogue before this importer)"]
    for path in sorted(sources.glob("dichvucong_*.jsonl")):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        records += [json.loads(line) for line in lines]
        described.append(f"`{path.relative_to(ROOT).as_posix()}`: {len(lines)} national portal records "
                         "(dichvucong.gov.vn; provenance in SOURCES.md)")
    return hand_text, records, described


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed outputs are stale")
    args = parser.parse_args(argv)
    build = build_catalogue(*load_sources())
    outputs = {OUTPUT_CSV: to_csv(build), OUTPUT_REPORT: to_report(build)}
    if args.check:
        stale = [p.name for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        if stale:
            print(f"stale: {', '.join(stale)}; run python tools/import_catalogue.py", file=sys.stderr)
            return 1
        return 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    print(f"{len(build.rows)} procedures written to {OUTPUT_CSV.relative_to(ROOT)}; "
          f"report in {OUTPUT_REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
