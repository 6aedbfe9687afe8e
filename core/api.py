"""The API's request parsing and its OpenAPI document, shared by every package's ``api.py``.

- ``Blueprint`` is flask-smorest's, with a parser that turns any body it cannot read (too deep,
  a number too long for Python, bytes that are not UTF-8) into a 400 problem, refuses text
  PostgreSQL cannot store (NUL, lone surrogates) with a 422 naming the field, and requires a
  JSON body where a route declares one (an empty PATCH is a mistake, not a no-op).
- Pagination: ``page`` is bounded so the offset fits the database's BIGINT.
- ``ProblemApi`` documents every error as ``application/problem+json`` with the Problem schema,
  and ``ErrorResponsesPlugin`` lists on each operation the errors it can answer.
- ``init_input_guards`` refuses NUL characters in every query string and form (HTML pages too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from copy import deepcopy
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, request
from flask_smorest import Api
from flask_smorest import pagination as fs_pagination
from flask_smorest.utils import prepare_response
from webargs import core as webargs_core
from webargs.fields import DelimitedList
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.routing import IntegerConverter

from core.errors import InvalidInput, field_error
from core.messages import Text
from core.schemas import INT32_MAX, ProblemSchema

PROBLEM_CONTENT_TYPE = "application/problem+json"
MAX_PAGE = INT32_MAX  # (page - 1) * page_size (<= 100) stays far inside BIGINT

_BAD_TEXT = "Must not contain NUL characters or unpaired surrogates."


def bad_text(value: str | None) -> bool:
    """Text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (a lone surrogate)."""
    if not isinstance(value, str):  # e.g. a multipart part without a value
        return False
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path or "_schema"] if bad_text(value) else []
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and bad_text(key):
                out.append(path or "_schema")
            out.extend(_bad_paths(item, name))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            out.extend(_bad_paths(item, f"{path}.{index}" if path else str(index)))
    return out


def _reject_bad_text(paths: list[str], location: str) -> None:
    if paths:
        errors = [field_error(p, _BAD_TEXT, location) for p in dict.fromkeys(paths)]
        names = ", ".join(e["field"] for e in errors)
        raise InvalidInput(Text(f"Kiểm tra lại các trường: {names}.", f"Check these fields: {names}."),
                           errors=errors)


class ApiParser(FlaskParser):
    """webargs' Flask parser, made to answer every unreadable body with a 4xx problem, with one more
    location, ``multipart``: a form's fields and files in one schema (one documented request body)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "multipart": ma.EXCLUDE}
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        data = req.get_data(cache=True)
        if not data.strip():
            return webargs_core.missing
        try:
            return webargs_core.parse_json(data)
        except json.JSONDecodeError:
            raise  # webargs answers 400 "Invalid JSON body."
        except (ValueError, RecursionError) as exc:  # a number past Python's digit limit; nesting too deep
            raise json.JSONDecodeError(f"unreadable JSON: {type(exc).__name__}", "<body>", 0) from exc

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        flask_smorest.abort(400, exc=error, messages={"json": ["Invalid JSON body."]})

    def pre_load(self, location_data, *, schema, req, location):
        if location == "json":
            if location_data is webargs_core.missing or (
                    isinstance(location_data, Mapping) and not location_data and not req.get_data(cache=True).strip()):
                raise ma.ValidationError({"_schema": ["A JSON body is required."]})
            _reject_bad_text(_bad_paths(location_data, ""), "json")
        elif location in ("query", "querystring", "form", "multipart", "headers") and hasattr(location_data, "getlist"):
            paths = []
            for name, field in schema.fields.items():
                key = field.data_key or name
                values = location_data.data.getlist(key) if hasattr(location_data, "data") else []
                paths.extend(key for value in values if isinstance(value, str) and bad_text(value))
            _reject_bad_text(paths, location)
        return location_data


_PARSER = ApiParser()


def _bounded_pagination_schema_factory(def_page, def_page_size, def_max_page_size):
    class PaginationParametersSchema(ma.Schema):
        class Meta:
            ordered = True
            unknown = ma.EXCLUDE

        page = ma.fields.Integer(load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE))
        page_size = ma.fields.Integer(load_default=def_page_size,
                                      validate=ma.validate.Range(min=1, max=def_max_page_size))

        @ma.post_load
        def make_paginator(self, data, **kwargs):
            return fs_pagination.PaginationParameters(**data)

    return PaginationParametersSchema


# flask-smorest builds the page parameters inside ``paginate`` from this module-level factory;
# its own leaves ``page`` unbounded (a page past BIGINT was a 500 from the database).
fs_pagination._pagination_parameters_schema_factory = _bounded_pagination_schema_factory


class Blueprint(flask_smorest.Blueprint):
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}
    ARGUMENTS_PARSER = _PARSER
    PAGINATION_ARGUMENTS_PARSER = _PARSER


PAGINATION_HEADER = {
    "description": "Pagination metadata as a JSON object: total, total_pages, first_page, last_page, page, "
                   "previous_page, next_page (the last two only when they exist)",
    "schema": {"type": "string", "example": '{"total": 42, "total_pages": 5, "first_page": 1, '
                                            '"last_page": 5, "page": 1, "next_page": 2}'},
}


class ProblemApi(Api):
    """flask-smorest's Api, documenting errors as they are sent: RFC 9457 problems."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error, as a problem", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_pagination_header(self):
        self.spec.components.header("PAGINATION", PAGINATION_HEADER, lazy=True)


_PROBLEM_CONTENT = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


class ErrorResponsesPlugin(BasePlugin):
    """Lists on each operation the errors it can answer, each an ``application/problem+json`` problem.

    401/403 for every route behind a key; 404 where the path names a resource; 400 (a body that is
    not JSON, a session call without its CSRF token), 409 (the resource's state forbids it) on
    every change; 413 on uploads; 422 where the request carries arguments.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            codes: list[int] = []
            protected = operation.get("security") != []
            if protected:
                codes += [401, 403]
            if "{" in (path or ""):
                codes.append(404)
            if method != "get":
                codes.append(400)
                if protected:
                    codes.append(409)
            content = (operation.get("requestBody") or {}).get("content") or {}
            if "multipart/form-data" in content:
                codes.append(413)
            if operation.get("parameters") or content:
                codes.append(422)
            for code in codes:
                key = str(code)
                if key not in responses and code not in responses:
                    responses[key] = HTTPStatus(code).name
            for key, response in list(responses.items()):  # e.g. 402: documented by its route without a body
                if str(key).isdigit() and int(key) >= 400 and isinstance(response, dict) and "content" not in response:
                    response["content"] = deepcopy(_PROBLEM_CONTENT)


def field_fixes(self, field, ret, **kwargs) -> dict:
    """What apispec gets wrong about two kinds of field.

    A Decimal's bounds and default are copied as Decimals, which JSON carries as text ("100.000"),
    and an ``as_string`` Decimal is called a number; a DelimitedList's default is its wire form
    ("a,b"), not the array the schema says. Document what is really accepted and sent."""
    if isinstance(field, DelimitedList) and isinstance(ret.get("default"), str):
        return {"default": ret["default"].split(field.delimiter)}
    if not isinstance(field, ma.fields.Decimal):
        return {}
    out: dict[str, Any] = {}
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "default", "example"):
        value = ret.get(key)
        if isinstance(value, (Decimal, str)) and key != "example":
            number = Decimal(value)
            out[key] = int(number) if number == number.to_integral_value() else float(number)
    if field.as_string:
        out = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            ret.pop(key, None)
    return out


def init_api_docs(api: Api) -> None:
    api.ma_plugin.converter.add_attribute_function(field_fixes)


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in a route is a row id or a small index (rq-dashboard's instance 0): 0 to INTEGER's maximum,
    documented so in the OpenAPI. A larger number matches no route (404) instead of overflowing the database's
    parameter (a 500)."""

    def __init__(self, map, fixed_digits=0, min=0, max=INT32_MAX, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_input_guards(app: Flask) -> None:
    """Bound every integer in a route; refuse NUL characters in any query string or form, API or page:
    PostgreSQL stores no NUL. Runs before any blueprint registers its rules."""
    app.url_map.converters["int"] = RowIdConverter

    @app.before_request
    def _refuse_nul():
        for location, values in (("query", request.args), ("form", request.form if request.mimetype in (
                "application/x-www-form-urlencoded", "multipart/form-data") else {})):
            bad = [key for key, value in values.items(multi=True) if bad_text(key) or bad_text(value)] if values else []
            _reject_bad_text(bad, location)


def signed_webhook_doc(summary: str, header: str, scheme: str, ok: dict) -> dict:
    """The OpenAPI of a provider's signed callback: its signature header, its raw JSON body,
    what it answers (``ok``: the 200 body's properties) and the 400 of a bad signature or body."""
    return {
        "summary": summary,
        "parameters": [{"in": "header", "name": header, "required": True, "schema": {"type": "string"},
                        "description": scheme}],
        "requestBody": {"required": True, "description": "The provider's event, signed byte for byte",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {
            "200": {"description": "Recorded", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"received": {"type": "boolean"}, **ok},
                "required": ["received"]}}}},
            "400": {"description": "Bad signature or body; nothing recorded"},
        },
    }
