"""Marshmallow schemas of the dossier API: input (load) and output (dump)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from core.schemas import UtcDateTime
from dossiers.lifecycle import allowed_next
from dossiers.models import DeliveryMethod, Level, Status
from dossiers.validators import normalise_mobile, validate_cccd, validate_mobile
from geo.service import in_vietnam

_not_blank = validate.Length(min=1, error="Must not be blank.")
CATALOGUE_LIMIT = 2_000  # above Hanoi's ~1,726 procedures: one request gives a tablet the whole catalogue


class ProcedureQuerySchema(Schema):
    q = fields.String(load_default="", metadata={"description": "Search text; diacritics optional"})
    level = fields.Enum(Level, by_value=True, load_default=None)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=CATALOGUE_LIMIT), metadata={
        "description": f"At most this many; up to {CATALOGUE_LIMIT:,}, the whole catalogue (a tablet's offline copy)"})


class ProcedureSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    level = fields.Enum(Level, by_value=True)
    sector = fields.String()
    fee_vnd = fields.Integer(metadata={"description": "State fee in đồng (VND has no minor unit)"})
    fee_note = fields.String(allow_none=True, metadata={"description": "A note on the fee, in English"})
    fee_note_vi = fields.String(allow_none=True, metadata={"description": "The same note in Vietnamese"})
    processing_days = fields.Integer(metadata={"description": "Working days"})
    required_documents = fields.List(fields.String())
    required_documents_en = fields.List(fields.String(), allow_none=True, metadata={
        "description": "The checklist in English, item for item, where the catalogue has it"})
    national_code = fields.String(allow_none=True, metadata={
        "description": "The national public service portal's code (dichvucong.gov.vn), where known"})
    legal_basis = fields.String(allow_none=True, metadata={
        "description": "The legal documents the procedure rests on, ';'-separated; null: unsourced"})
    source = fields.String(allow_none=True, metadata={"description": "Where the catalogue row's facts come from"})
    score = fields.Float(allow_none=True, metadata={"description": "Search relevance"})


class CitizenSchema(Schema):
    full_name = fields.String(required=True, validate=[_not_blank, validate.Length(max=200)])
    cccd = fields.String(required=True, validate=validate_cccd,
                         metadata={"description": "12-digit citizen identity card number"})
    phone = fields.String(required=True, validate=validate_mobile,
                          metadata={"description": "Mobile; stored in E.164"})
    email = fields.Email(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=400))

    @post_load
    def normalise(self, data, **kwargs):
        data["phone"] = normalise_mobile(data["phone"])
        data["full_name"] = " ".join(data["full_name"].split())
        return data


class LocationSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    source = fields.String(load_default="gps", validate=validate.OneOf(["gps", "address", "pin"]))

    @validates_schema
    def inside_vietnam(self, data, **kwargs):
        if not in_vietnam(data["lat"], data["lon"]):
            raise ValidationError("The location is not in Vietnam.", field_name="lat")


class DeliverySchema(Schema):
    method = fields.Enum(DeliveryMethod, by_value=True, required=True)
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=400))

    @validates_schema
    def address_for_courier(self, data, **kwargs):
        if data["method"] is DeliveryMethod.COURIER and not (data.get("address") or "").strip():
            raise ValidationError("Required when the result is delivered by courier.", "address")


class DossierCreateSchema(Schema):
    procedure_code = fields.String(required=True, validate=_not_blank)
    citizen = fields.Nested(CitizenSchema, required=True)
    location = fields.Nested(
        LocationSchema, load_default=None, allow_none=True,
        metadata={"description": "The device's GPS fix (preferred) or a pin; without it the citizen's "
                                 "address is located (offline: the centre of its ward, approximate)"},
    )
    delivery = fields.Nested(DeliverySchema, load_default=lambda: {"method": DeliveryMethod.COLLECT, "address": None})
    service_point_code = fields.String(
        load_default=None, allow_none=True,
        metadata={"description": "The agent's choice of another point than the router's"},
    )
    choice_reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    outside_hanoi_reason = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500),
        metadata={"description": "A location outside Hanoi is refused (422 outside_hanoi) unless this "
                                 "gives the reason to register it anyway; recorded in the dossier's events"},
    )
    agent_reference = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=100),
        metadata={"description": "The partner's own reference or agent name"},
    )
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def location_or_address(self, data, **kwargs):
        if data.get("location") is None and not ((data.get("citizen") or {}).get("address") or "").strip():
            raise ValidationError("Required unless the citizen's address is given.", "location")

    @validates_schema
    def reason_for_choice(self, data, **kwargs):
        if data.get("service_point_code") and not (data.get("choice_reason") or "").strip():
            raise ValidationError("Required when choosing another service point.", "choice_reason")


class IdempotencyHeaderSchema(Schema):
    class Meta:
        unknown = "exclude"

    idempotency_key = fields.String(
        data_key="Idempotency-Key", required=True,
        error_messages={"required": "The Idempotency-Key header is required."},
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Unique per business operation; reuse it on every retry"},
    )


class RouteOptionSchema(Schema):
    service_point_code = fields.String()
    service_point_name = fields.String()
    tier = fields.String()
    distance_km = fields.Float()
    travel_minutes = fields.Float()
    rule_held = fields.String()
    within_service_radius = fields.Boolean()
    coord_precision = fields.String(metadata={
        "description": "How precisely the point's coordinates place its office: building, street, "
                       "ward_centre, unit_centre, district_mean or unknown"})


class RoutingSchema(Schema):
    chosen = fields.Nested(RouteOptionSchema, allow_none=True)
    alternatives = fields.List(fields.Nested(RouteOptionSchema))
    outside_service_radius = fields.Boolean()
    explanation_vi = fields.String()
    explanation_en = fields.String()
    rule = fields.Dict()
    chosen_by = fields.String(metadata={"description": "router or agent"})
    location = fields.Dict(allow_none=True, metadata={
        "description": "How the citizen's address was located when no GPS fix or pin was given"})
    relaxed = fields.List(fields.String(), metadata={
        "description": "Constraints given up because no point met them: capacity, opening_hours"})
    travel = fields.Dict(metadata={"description": "Mode of travel, provider, and why an engine fell back"})
    router_choice = fields.Nested(RouteOptionSchema, allow_none=True,
                                  metadata={"description": "The router's pick, when the agent chose another"})
    choice_reason = fields.String(allow_none=True)
    outside_hanoi = fields.Boolean(metadata={"description": "The location lies outside Hanoi's outline"})
    outside_hanoi_reason = fields.String(allow_none=True, metadata={
        "description": "Why the agent registered a location outside Hanoi"})


class EventSchema(Schema):
    at = UtcDateTime()
    actor = fields.String()
    actor_role = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    reason = fields.String(allow_none=True)


class DocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()
    uploaded_at = UtcDateTime()


class DocumentFormSchema(Schema):
    kind = fields.String(load_default="other", validate=validate.Length(min=1, max=64))


class DossierSchema(Schema):
    """What an agent organisation and staff see of a dossier."""

    number = fields.String(metadata={
        "description": "The legal dossier number (Circular 01/2018/TT-VPCP Art. 19): "
                       "<agency code>-YYMMDD-XXXX, e.g. 000.02.98.H26-261203-0001; dossiers numbered before "
                       "it keep the former <service point code>-YYMMDD-XXXX", "example": "000.02.98.H26-261203-0001"})
    agency_code = fields.String(allow_none=True, metadata={
        "description": "The receiving agency's code that starts the number (dossiers/data/agency_codes.csv); "
                       "null for a number in the former format. The point is service_point.service_point_code"})
    status = fields.Enum(Status, by_value=True)
    procedure = fields.Function(lambda d: {
        "code": d.procedure.code, "name": d.procedure.name, "level": d.procedure.level.value,
        "processing_days": d.procedure.processing_days,
    })
    citizen = fields.Function(lambda d: {
        "full_name": d.citizen_name, "cccd": d.citizen_id_number, "phone": d.citizen_phone,
        "email": d.citizen_email, "address": d.citizen_address,
    })
    location = fields.Function(lambda d: {"lat": d.lat, "lon": d.lon, "source": d.location_source})
    service_point = fields.Function(lambda d: d.routing.get("chosen"))
    routing = fields.Nested(RoutingSchema)
    outside_service_radius = fields.Boolean()
    delivery = fields.Function(lambda d: {"method": d.delivery_method.value, "address": d.delivery_address})
    agent_reference = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    fee_vnd = fields.Integer()
    received_at = UtcDateTime()
    deadline_at = UtcDateTime()
    updated_at = UtcDateTime()
    version = fields.Integer(metadata={"description": "Bumped by every change; send it back with a transition "
                                                      "to refuse it if someone changed the dossier meanwhile"})
    allowed_transitions = fields.Function(
        lambda d: [s.value for s in allowed_next(d.status, d.delivery_method)]
    )
    events = fields.List(fields.Nested(EventSchema))
    documents = fields.List(fields.Nested(DocumentSchema))


class DossierSummarySchema(Schema):
    number = fields.String()
    agency_code = fields.String(allow_none=True)
    status = fields.Enum(Status, by_value=True)
    procedure_code = fields.Function(lambda d: d.procedure.code)
    citizen_name = fields.String()
    service_point_code = fields.Function(lambda d: (d.routing.get("chosen") or {}).get("service_point_code"))
    outside_service_radius = fields.Boolean()
    received_at = UtcDateTime()
    deadline_at = UtcDateTime()


class DossierListQuerySchema(Schema):
    status = fields.Enum(Status, by_value=True, load_default=None)


class TransitionSchema(Schema):
    to = fields.Enum(Status, by_value=True, required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    version = fields.Integer(load_default=None, allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "Optimistic locking: the dossier's version the move was decided on (``version`` in the "
                       "dossier); a dossier changed since is a 409 ``stale_dossier`` and nothing moves"})


class ApologyCreateSchema(Schema):
    """A late dossier's apology (Circular 01/2018/TT-VPCP, form 04): why, and the new date."""

    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000), metadata={
        "description": "Why the result is late; required (a blank reason is refused with the other checks)"})
    new_date = fields.Date(required=True, metadata={
        "description": "The new day the result is due (Hanoi): a working day after today and after the "
                       "current deadline; the deadline becomes its end of office hours (17:00)"})


class ApologySchema(Schema):
    id = fields.Integer()
    number = fields.Function(lambda a: a.dossier.number, metadata={"description": "The dossier's number"})
    reason = fields.String()
    old_deadline = UtcDateTime()
    new_deadline = UtcDateTime()
    officer = fields.String(metadata={"description": "Who recorded it"})
    officer_name = fields.String(allow_none=True, metadata={"description": "Their name, as printed on the form"})
    at = UtcDateTime()
