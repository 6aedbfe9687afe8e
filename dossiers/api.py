"""The agents' dossier API: register, read, list, documents, transitions, apologies for lateness."""

from __future__ import annotations

from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE

from core.api import Blueprint
from core.auth import EVERYONE, allow, current_principal
from core.roles import Role
from dossiers import apologies, service
from dossiers.schemas import (
    ApologyCreateSchema,
    ApologySchema,
    DocumentFormSchema,
    DocumentSchema,
    DossierCreateSchema,
    DossierListQuerySchema,
    DossierSchema,
    DossierSummarySchema,
    IdempotencyHeaderSchema,
    TransitionSchema,
)

blp = Blueprint("dossiers", __name__, url_prefix="/api/v1/dossiers",
                description="Dossiers (hồ sơ) registered by public-service agents")


class DocumentUploadSchema(DocumentFormSchema):
    class Meta:
        unknown = EXCLUDE  # other parts of a browser's form (its CSRF token) are ignored, as documented

    file = Upload(required=True, metadata={"description": "The scan"})


@blp.route("", methods=["POST"])
@allow(Role.AGENT)
@blp.arguments(IdempotencyHeaderSchema(), location="headers", as_kwargs=True)
@blp.arguments(DossierCreateSchema())
@blp.response(201, DossierSchema, description="Created; on a replay of the same key and body, 200")
@blp.alt_response(200, schema=DossierSchema, description="Replay of an earlier request")
def create_dossier(data, idempotency_key):
    """Register a dossier for a citizen (idempotent per Idempotency-Key)"""
    result = service.register(current_principal(), data, idempotency_key)
    headers = {"Location": url_for("dossiers.get_dossier", number=result.dossier.number)}
    if not result.created:
        headers["Idempotent-Replayed"] = "true"
        return result.dossier, 200, headers
    return result.dossier, 201, headers


@blp.route("", methods=["GET"])
@allow(*EVERYONE)
@blp.arguments(DossierListQuerySchema(), location="query")
@blp.response(200, DossierSummarySchema(many=True))
@blp.paginate()
def list_dossiers(args, pagination_parameters):
    """Dossiers the caller may see, newest first (pagination in X-Pagination)"""
    items, total = service.list_page(current_principal(), args["status"],
                                     pagination_parameters.page, pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return items


@blp.route("/<number>", methods=["GET"])
@allow(*EVERYONE)
@blp.response(200, DossierSchema)
def get_dossier(number):
    """One dossier with its timeline and documents"""
    return service.get(current_principal(), number)


@blp.route("/<number>/transitions", methods=["POST"])
@allow(Role.BRANCH_OFFICER, Role.ADMIN, Role.AGENT)
@blp.arguments(TransitionSchema())
@blp.response(200, DossierSchema)
def transition_dossier(data, number):
    """Move a dossier through its lifecycle (branch officers; agents may only cancel)"""
    return service.transition(current_principal(), number, data["to"], data["reason"], data["version"])


@blp.route("/<number>/documents", methods=["POST"])
@allow(Role.AGENT, Role.BRANCH_OFFICER, Role.ADMIN)
@blp.arguments(DocumentUploadSchema(), location="multipart")
@blp.response(201, DocumentSchema)
def upload_document(form, number):
    """Attach a scanned document (PDF, JPEG, PNG, WebP, HEIC); type sniffed from content"""
    upload = form["file"]
    return service.add_document(current_principal(), number, form["kind"], upload.filename, upload.stream)


@blp.route("/<number>/apologies", methods=["POST"])
@allow(Role.BRANCH_OFFICER, Role.ADMIN)
@blp.arguments(ApologyCreateSchema())
@blp.response(201, ApologySchema)
def apologise(data, number):
    """Apologise for a late dossier and set a new date (branch officers, admin)

    Circular 01/2018/TT-VPCP, form 04: the reason and a new date (a working day after today and after
    the current deadline); the deadline moves to that day's end of office hours, the timeline records it
    and the citizen gets an SMS with the new date. A dossier whose result is ready, or that is closed,
    is a 409.
    """
    apology = apologies.apologise(current_principal(), number, data["reason"], data["new_date"])
    return apology, 201, {"Location": url_for("dossiers.list_apologies", number=number)}


@blp.route("/<number>/apologies", methods=["GET"])
@allow(*EVERYONE)
@blp.response(200, ApologySchema(many=True))
def list_apologies(number):
    """A dossier's apologies for lateness, oldest first (the caller's dossiers only)"""
    return apologies.for_dossier(current_principal(), number)
