"""The baseline of the intake benchmark: a bare Flask app with one JSON endpoint.

It does what any JSON endpoint must do (parse the body, build a small JSON reply) and
nothing else: no database, no validation, no auth. ``gunicorn bench.bare_app:app``.
"""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    body = request.get_json()
    return jsonify(received=True, fields=len(body) if isinstance(body, dict) else 0), 201


PAGE = ("<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Hồ sơ</title></head>"
        "<body><h1>Hồ sơ</h1><ol class=\"timeline\"><li>Đã tiếp nhận</li><li>Đang xử lý</li></ol></body></html>")


@app.get("/page")
def page():
    """The baseline of the tracking benchmark: a small constant HTML page."""
    return PAGE


@app.get("/healthz")
def healthz():
    """The same readiness probe path as the real app, so the harness waits the same way."""
    return jsonify(status="ok")
