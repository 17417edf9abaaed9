"""The roster parser on its own: pure functions, no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.communities import roster


def parse(text: str):
    return roster.parse(text.encode("utf-8"), "r.csv")


def test_header_synonyms_and_cell_clean_up():
    rows, errors = parse("户主,联系电话,楼号,门牌号,建筑面积,是否业主\n"
                         " 张三 ,138-0000-0001,2栋,201,88.5㎡,√\n\n,,,,,\n")
    assert errors == []
    assert rows == [roster.RosterRow(2, "张三", "13800000001", "2栋", "", "201", Decimal("88.50"), True)]


def test_every_problem_of_a_row_is_reported():
    _, errors = parse("姓名,手机号,楼栋,房号,面积,业主\n,123,,,-5,maybe\n")
    assert {(e.line, e.field, e.key) for e in errors} == {
        (2, "name", "roster.name_missing"), (2, "phone", "roster.phone_invalid"),
        (2, "building", "roster.building_missing"), (2, "room", "roster.room_missing"),
        (2, "area", "roster.area_invalid"), (2, "owner", "roster.owner_invalid")}


@pytest.mark.parametrize("area", ["NaN", "Infinity", "1e9", "100001", "-0.01", "八十"])
def test_areas_must_be_sensible_numbers(area):
    _, errors = parse(f"姓名,手机号,楼栋,房号,面积\n张三,13800000001,1栋,101,{area}\n")
    assert [e.key for e in errors] == ["roster.area_invalid"]


def test_too_many_rows_is_refused(monkeypatch):
    monkeypatch.setattr(roster, "MAX_ROWS", 3)
    body = "".join(f"张{n},1380000000{n},1栋,10{n}\n" for n in range(4))
    with pytest.raises(roster.RosterFileError) as exc:
        parse("姓名,手机号,楼栋,房号\n" + body)
    assert exc.value.key == "roster.too_many_rows"


@given(st.binary(max_size=400))
def test_any_bytes_either_parse_or_are_refused_cleanly(data):
    try:
        rows, errors = roster.parse(data, "upload.csv")
    except roster.RosterFileError as exc:
        assert exc.key.startswith("roster.")
    else:
        assert rows or errors


NAMES = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=8)


@given(st.lists(st.tuples(NAMES, st.integers(min_value=0, max_value=99_999_999)), min_size=1, max_size=20,
                unique_by=lambda t: t[1]))
def test_good_rows_survive_a_round_trip(people):
    text = "姓名,手机号,楼栋,房号\n" + "".join(f"{name},138{n:08d},1栋,101\n" for name, n in people)
    rows, errors = parse(text)
    assert errors == []
    assert [(r.name, r.phone) for r in rows] == [(name, f"138{n:08d}") for name, n in people]
