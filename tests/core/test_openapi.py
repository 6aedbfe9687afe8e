"""The OpenAPI document is valid and says what the API really does."""

from __future__ import annotations

import json

import pytest
from flask_smorest.pagination import PaginationMetadataSchema
from openapi_spec_validator import validate

from core.api import Blueprint
from core.extensions import api
from tests.factories import auth

pytestmark = pytest.mark.smoke

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _response(spec, response):
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def test_the_document_is_valid_openapi(spec):
    validate(spec)  # raises on the first error, with its path in the document


def test_decimal_bounds_are_numbers_not_text(spec):
    percent = spec["components"]["schemas"]["FeeRuleIn"]["properties"]["percent"]
    assert percent["type"] == "number" and percent["minimum"] == 0 and percent["maximum"] == 100
    assert percent["default"] == 0
    sent = spec["components"]["schemas"]["FeeRule"]["properties"]["percent"]  # dumped as_string
    assert sent["type"] == "string" and "maximum" not in sent


def test_every_error_is_documented_as_a_problem(spec):
    problem = {"$ref": "#/components/schemas/Problem"}
    assert {"type", "title", "status", "code"} <= set(spec["components"]["schemas"]["Problem"]["required"])
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        assert "default" in responses, (method, path)
        for status, response in responses.items():
            if status == "default" or int(status) >= 400:
                content = _response(spec, response)["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                assert content["application/problem+json"]["schema"] == problem
        if operation.get("security") != []:
            assert {"401", "403"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in responses, (method, path)
        if method != "get":
            assert "400" in responses, (method, path)


def test_integer_inputs_are_bounded(spec):
    """Every integer or number a client sends has bounds, so none can overflow a database column."""
    unbounded = []

    def walk(schema, where):
        if "$ref" in schema:
            return walk(spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], where)
        if schema.get("type") in ("integer", "number") and not {"minimum", "maximum"} <= set(schema):
            unbounded.append(where)
        for name, sub in (schema.get("properties") or {}).items():
            walk(sub, f"{where}.{name}")
        if "items" in schema:
            walk(schema["items"], f"{where}[]")

    for path, method, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            walk(parameter["schema"], f"{method} {path} {parameter['name']}")
        for content_type, media in (operation.get("requestBody") or {}).get("content", {}).items():
            walk(media["schema"], f"{method} {path} {content_type}")
    assert unbounded == []


def test_the_pagination_header_is_documented_as_the_json_text_it_is(spec, client, agent_key):
    header = spec["components"]["headers"]["PAGINATION"]
    assert header["schema"]["type"] == "string"
    listed = spec["paths"]["/api/v1/dossiers"]["get"]["responses"]["200"]["headers"]["X-Pagination"]
    assert listed == {"$ref": "#/components/headers/PAGINATION"}
    sent = client.get("/api/v1/dossiers", headers=auth(agent_key)).headers["X-Pagination"]
    assert set(json.loads(sent)) <= set(PaginationMetadataSchema().fields)
    assert set(json.loads(sent)) <= set(json.loads(header["schema"]["example"]) | {"previous_page": 0})
    page = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/dossiers"]["get"]["parameters"]}["page"]
    assert page["maximum"] == 2**31 - 1


@pytest.mark.parametrize("path, header", [("/api/v1/payments/webhook", "Stripe-Signature"),
                                          ("/api/v1/courier/webhook", "X-Courier-Signature"),
                                          ("/api/v1/notify/receipts", "X-SMS-Signature")])
def test_webhook_signature_headers_are_documented(spec, path, header):
    operation = spec["paths"][path]["post"]
    assert operation["security"] == []
    [parameter] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert parameter["name"] == header and parameter["required"] is True
    assert "application/json" in operation["requestBody"]["content"]
    assert "application/json" in operation["responses"]["200"]["content"]


def test_the_document_upload_is_one_multipart_body(spec):
    operation = spec["paths"]["/api/v1/dossiers/{number}/documents"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    properties = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]["properties"]
    assert set(properties) == {"kind", "file"} and properties["file"]["format"] == "binary"
    assert all(p["in"] != "formData" for p in operation.get("parameters", []))


def test_every_api_blueprint_parses_with_the_guarded_parser(app):
    blueprints = [app.blueprints[name] for name in app.blueprints if name != "api-docs"]
    documented = [bp for bp in blueprints if bp.name in {b["name"] for b in api.spec.to_dict()["tags"]}]
    assert documented and all(isinstance(bp, Blueprint) for bp in documented)
