"""Catalogue search: diacritics optional, typos tolerated."""

from __future__ import annotations

import pytest

from core.text import fold
from dossiers.search import SearchEntry, SearchIndex
from tests.factories import auth


def _search(client, key, q, **params):
    response = client.get("/api/v1/procedures", query_string={"q": q, **params}, headers=auth(key))
    assert response.status_code == 200
    return response.get_json()


def test_fold_strips_vietnamese_diacritics():
    assert fold("Đăng ký KHAI SINH, lý lịch tư pháp") == "dang ky khai sinh ly lich tu phap"


@pytest.mark.parametrize(("query", "expected"), [
    ("dang ky khai sinh", "Đăng ký khai sinh"),
    ("Đăng ký khai sinh", "Đăng ký khai sinh"),
    ("dang ki khai sihn", "Đăng ký khai sinh"),
    ("ly lich tu phap", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam"),
    ("lí lịch tư pháp", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam"),
    ("dang ky ket hon", "Đăng ký kết hôn"),
    ("khai tu", "Đăng ký khai tử"),
])
def test_the_right_procedure_comes_first(client, agent_key, query, expected):
    results = _search(client, agent_key, query)
    assert results and results[0]["name"] == expected, [r["name"] for r in results[:3]]


def test_search_by_code_and_level_filter(client, agent_key):
    assert _search(client, agent_key, "HN-TP-001")[0]["code"] == "HN-TP-001"
    district = _search(client, agent_key, "khai sinh", level="district")
    assert district and {r["level"] for r in district} == {"district"}


def test_nonsense_finds_nothing(client, agent_key):
    assert _search(client, agent_key, "xqzv wprt") == []


def test_empty_query_lists_the_catalogue(client, agent_key):
    assert len(_search(client, agent_key, "", limit=100)) >= 30


def test_index_prefers_the_exact_phrase():
    index = SearchIndex([
        SearchEntry(1, "A", fold("Đăng ký khai sinh có yếu tố nước ngoài")),
        SearchEntry(2, "B", fold("Đăng ký khai sinh")),
        SearchEntry(3, "C", fold("Đăng ký kết hôn")),
    ])
    assert [i for i, _ in index.search("dang ky khai sinh")][:2] == [2, 1]
