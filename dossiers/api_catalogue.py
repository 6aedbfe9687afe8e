"""Procedure catalogue API."""

from __future__ import annotations

from core.api import Blueprint
from core.auth import EVERYONE, allow
from dossiers import catalogue
from dossiers.schemas import ProcedureQuerySchema, ProcedureSchema

blp = Blueprint("procedures", __name__, url_prefix="/api/v1/procedures",
                description="Procedure catalogue (thủ tục hành chính)")


@blp.route("")
@allow(*EVERYONE)
@blp.arguments(ProcedureQuerySchema(), location="query")
@blp.response(200, ProcedureSchema(many=True))
def list_procedures(args):
    """Search the catalogue; diacritics optional, typos tolerated"""
    columns = [name for name in ProcedureSchema().fields if name != "score"]
    return [
        {**{name: getattr(procedure, name) for name in columns}, "score": score}
        for procedure, score in catalogue.search(args["q"], args["level"], args["limit"])
    ]
