"""Reading a household roster 住户花名册 from CSV or XLSX: pure parsing and validation, no I/O.

Columns (Chinese or English headers): 姓名/name, 手机号/phone, 楼栋/building, 单元/unit
(optional), 房号/room, 面积/area (m², optional), 业主/owner (是/否). CSV may be UTF-8 or GBK
(what Excel in China writes), or Excel's tab-separated UTF-16 "Unicode text". A file with any
bad row is rejected whole; each bad row is reported with its line number and reason.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from app.communities.areas import floor_area

MAX_ROWS = 20_000

HEADERS = {
    "name": ("姓名", "name", "住户姓名", "户主"),
    "phone": ("手机号", "手机", "电话", "联系电话", "手机号码", "phone", "mobile"),
    "building": ("楼栋", "楼号", "栋", "村民小组", "小组", "building", "group"),
    "unit": ("单元", "unit"),
    "room": ("房号", "门牌号", "室", "房间", "room", "door"),
    "area": ("面积", "专有面积", "建筑面积", "面积(㎡)", "面积（㎡）", "area", "area_m2"),
    "owner": ("业主", "是否业主", "owner", "is_owner"),
}
REQUIRED = ("name", "phone", "building", "room")
_TRUE = {"是", "业主", "y", "yes", "true", "1", "√", "✓"}
_FALSE = {"否", "", "n", "no", "false", "0", "租户", "×"}
_PHONE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    phone: str
    building: str
    unit: str
    room: str
    area: Decimal | None
    is_owner: bool


@dataclass(frozen=True)
class RowError:
    line: int
    field: str | None
    key: str  # message key in the catalogues
    value: str = ""


class RosterFileError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def read_table(content: bytes, filename: str) -> list[list[str]]:
    """The file's cells as text rows, first row the header."""
    if filename.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    return _read_csv(content)


def _read_csv(content: bytes) -> list[list[str]]:
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = content.decode("utf-16", errors="replace")  # Excel's "Unicode text": UTF-16, tab-separated
        if "\x00" in text:  # no table holds NUL (and PostgreSQL could not store it)
            raise RosterFileError("roster.not_table")
    elif b"\x00" in content:  # UTF-8 or GBK text never holds NUL: this is an image, a PDF, ...
        raise RosterFileError("roster.not_table")
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterFileError("roster.encoding")
    header = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in header and "," not in header else ","
    try:
        return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise RosterFileError("roster.not_table") from exc


def _read_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    rows: list[list[str]] = []
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            for row in ws.iter_rows(values_only=True):
                rows.append([_cell(v) for v in row])
                if len(rows) > MAX_ROWS + 1:
                    break
        finally:
            wb.close()
    except Exception as exc:
        # A damaged or foreign file can fail anywhere inside openpyxl (zip, XML, styles, ...);
        # every such failure means the same thing to the person uploading it.
        raise RosterFileError("roster.not_table") from exc
    return rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse(content: bytes, filename: str) -> tuple[list[RosterRow], list[RowError]]:
    table = [r for r in read_table(content, filename)]
    while table and not any(c.strip() for c in table[-1]):
        table.pop()
    if not table:
        raise RosterFileError("roster.empty")
    header = [h.strip().lower() for h in table[0]]
    columns: dict[str, int] = {}
    for field, names in HEADERS.items():
        for i, h in enumerate(header):
            if h in {n.lower() for n in names}:
                columns[field] = i
                break
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        return [], [RowError(1, f, "roster.missing_column", f"{HEADERS[f][0]}/{f}") for f in missing]
    if len(table) - 1 > MAX_ROWS:
        raise RosterFileError("roster.too_many_rows")

    rows: list[RosterRow] = []
    errors: list[RowError] = []
    seen_phones: dict[str, int] = {}
    for line, raw in enumerate(table[1:], start=2):
        if not any(c.strip() for c in raw):
            continue

        def get(field: str, raw: list[str] = raw) -> str:
            i = columns.get(field)
            return raw[i].strip() if i is not None and i < len(raw) else ""

        name, phone, building, room = get("name"), get("phone").replace(" ", "").replace("-", ""), \
            get("building"), get("room")
        row_errors: list[RowError] = []
        if not name:
            row_errors.append(RowError(line, "name", "roster.name_missing"))
        elif len(name) > 50:
            row_errors.append(RowError(line, "name", "roster.name_too_long"))
        if not _PHONE.match(phone):
            row_errors.append(RowError(line, "phone", "roster.phone_invalid", phone))
        elif phone in seen_phones:
            row_errors.append(RowError(line, "phone", "roster.phone_duplicate", str(seen_phones[phone])))
        if not building:
            row_errors.append(RowError(line, "building", "roster.building_missing"))
        elif len(building) > 100:
            row_errors.append(RowError(line, "building", "roster.too_long"))
        if not room:
            row_errors.append(RowError(line, "room", "roster.room_missing"))
        elif len(room) > 50:
            row_errors.append(RowError(line, "room", "roster.too_long"))
        area: Decimal | None = None
        area_text = get("area").replace("㎡", "").replace("m²", "").strip()
        if area_text:
            try:
                area = floor_area(area_text)
            except ValueError as exc:  # the same rule as POST /households: refused, never rounded
                row_errors.append(RowError(line, "area", str(exc), area_text))
        owner_text = get("owner").lower()
        if owner_text in _TRUE:
            is_owner = True
        elif owner_text in _FALSE:
            is_owner = False
        else:
            is_owner = False
            row_errors.append(RowError(line, "owner", "roster.owner_invalid", owner_text))
        if row_errors:
            errors.extend(row_errors)
            continue
        seen_phones[phone] = line
        rows.append(RosterRow(line, name, phone, building, get("unit")[:20], room, area, is_owner))
    if not rows and not errors:
        raise RosterFileError("roster.empty")
    return rows, errors
