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
        (2, "area", "validation.area_not_positive"), (2, "owner", "roster.owner_invalid")}


@pytest.mark.parametrize(("area", "reason"), [
    ("NaN", "not_number"), ("Infinity", "not_number"), ("八十", "not_number"), ("1e9", "too_large"),
    ("10000.01", "too_large"), ("-0.01", "not_positive"), ("0", "not_positive"),
    ("33.335", "too_precise"), ("66.665", "too_precise"), ("0.001", "too_precise")])
def test_areas_are_refused_with_the_reason_never_rounded(area, reason):
    _, errors = parse(f"姓名,手机号,楼栋,房号,面积\n张三,13800000001,1栋,101,{area}\n")
    assert [(e.line, e.field, e.key) for e in errors] == [(2, "area", f"validation.area_{reason}")]


@pytest.mark.parametrize(("area", "kept"), [("33.33", "33.33"), ("89.500", "89.50"), ("10000", "10000.00"),
                                            ("0.01", "0.01"), ("1e2", "100.00")])
def test_areas_are_kept_as_written(area, kept):
    rows, errors = parse(f"姓名,手机号,楼栋,房号,面积\n张三,13800000001,1栋,101,{area}\n")
    assert errors == [] and rows[0].area == Decimal(kept) and str(rows[0].area) == kept


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
