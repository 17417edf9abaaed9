"""The honour board shared as a page anyone may open (/s/{code}: Open Graph tags, both boards of this
month, unnamed neighbours unnamed, no phones, one community only), and finding the neighbour to give
hours to by their phone number (a masked name and an id; nobody else's members)."""

from __future__ import annotations

import re
from typing import Any

from app.points import service as points
from tests import factories as f
from tests.points import support as s


async def share(client: Any, e: s.Estate, who: Any) -> dict[str, Any]:
    r = await client.post(e.url("/points/board/share"), headers=f.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_shared_board_shows_this_months_names_to_anyone_but_no_phone(client: Any, session: Any) -> None:
    e = await s.estate(session)
    a, b, c, _ = e.residents
    await s.bonus(client, e, a, 30)
    await s.bonus(client, e, b, 50)
    await s.bonus(client, e, c, 90, unit="hours")
    await client.put(e.url("/points/me/board-visibility"), headers=f.auth(b), json={"show_name": False})
    link = await share(client, e, a)
    assert link == await share(client, e, e.committee)  # one link per board, whoever asks
    assert link["url"].endswith(f"/s/{link['code']}") and link["qr_png_url"].endswith("/qr.png")
    page = await client.get(f"/s/{link['code']}")  # signed out
    assert page.status_code == 200, page.text
    html = page.text
    assert re.search(r'<meta property="og:title" content="幸福里社区 · \d{4}年\d{1,2}月光荣榜">', html)
    assert '<meta property="og:description"' in html and 'property="og:image"' in html
    points_list, hours_list = html.split('data-ranking="1"')[1].split('data-ranking="2"')
    assert points_list.index("一位邻居") < points_list.index("李明") and "50 积分" in points_list
    assert "赵敏" not in html  # the one who opted out
    assert "王芳" in hours_list and "1.5 小时" in hours_list
    for person in (a, b, c, e.committee):
        assert person.phone not in html and person.phone[-4:] not in html
    english = await client.get(f"/s/{link['code']}", headers={"Accept-Language": "en"})
    assert "A neighbour" in english.text and "By hours volunteered" in english.text
    poster = await client.get(f"/s/{link['code']}/poster.json")
    assert poster.status_code == 200 and poster.json()["action_label"] == "查看完整光荣榜"
    assert "赵敏" not in poster.text and "李明" not in poster.text  # the poster lives on: no names


async def test_a_shared_board_shows_only_its_own_community(client: Any, session: Any) -> None:
    e = await s.estate(session)
    other = await s.estate(session, name="和平里社区")
    await s.bonus(client, other, other.resident, 70)
    await s.bonus(client, e, e.neighbour, 5)
    link = await share(client, e, e.resident)
    html = (await client.get(f"/s/{link['code']}")).text
    assert "和平里社区" not in html and "70 积分" not in html and "赵敏" in html
    assert (await share(client, other, other.resident))["code"] != link["code"]
    # a member of one community cannot make the other's link
    r = await client.post(other.url("/points/board/share"), headers=f.auth(e.resident))
    assert r.status_code in (403, 404)
    assert (await client.post(e.url("/points/board/share"))).status_code == 401


async def find(client: Any, e: s.Estate, who: Any, phone: str, lang: str = "zh-CN") -> Any:
    return await client.post(e.url("/points/donations/recipient"), headers=f.auth(who, lang), json={"phone": phone})


async def test_a_resident_finds_a_neighbour_by_phone_and_gives_hours(client: Any, session: Any) -> None:
    e = await s.estate(session)
    neighbour = await f.member(session, e.c, name="王小英")
    await s.bonus(client, e, e.resident, 120, unit="hours")
    r = await find(client, e, e.resident, f"+86 {neighbour.phone}")
    assert r.status_code == 200, r.text
    assert r.json() == {"person_id": neighbour.id, "masked_name": "王*英"}
    assert neighbour.phone not in r.text
    given = await client.post(e.url("/points/donations"), headers=f.auth(e.resident),
                              json={"to_person_id": r.json()["person_id"], "minutes": 60})
    assert given.status_code == 201, given.text
    assert (await s.my_points(client, e, neighbour))["balances"]["hours"] == 60


async def test_finding_a_neighbour_refuses_strangers_bad_numbers_and_oneself(client: Any, session: Any) -> None:
    e = await s.estate(session)
    other = await s.estate(session, name="和平里社区")
    outsider = await f.person(session, name="路人甲")
    before = await s.fingerprint(session)
    for phone in (other.resident.phone, outsider.phone, "13000000000"):
        r = await find(client, e, e.resident, phone)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        assert "本社区没有用这个手机号登记的居民" in r.json()["detail"]
    en = await find(client, e, e.resident, outsider.phone, "en")
    assert en.status_code == 404 and "No member of this community" in en.json()["detail"]
    for bad in ("12345", "abc", "1" * 30, ""):
        r = await find(client, e, e.resident, bad)
        assert r.status_code == 422, (bad, r.text)
    assert (await client.post(e.url("/points/donations/recipient"), headers=f.auth(e.resident),
                              json={})).status_code == 422
    self_ = await find(client, e, e.resident, e.resident.phone)
    assert self_.status_code == 422 and "不能把时间赠送给自己" in self_.text
    # another community's member asking here is not a member: no answer about anyone
    assert (await find(client, e, other.resident, e.neighbour.phone)).status_code in (403, 404)
    assert await s.fingerprint(session) == before


async def test_finding_neighbours_by_phone_is_limited_per_person(client: Any, session: Any) -> None:
    e = await s.estate(session)
    allowed = int(points.LOOKUP_RATES.split("/")[0])
    for _ in range(allowed):
        assert (await find(client, e, e.resident, e.neighbour.phone)).status_code == 200
    r = await find(client, e, e.resident, e.neighbour.phone)
    assert r.status_code == 429 and "分钟后再试" in r.json()["detail"]
    assert (await find(client, e, e.neighbour, e.resident.phone)).status_code == 200  # others are not held up


def test_a_name_is_masked_but_for_its_ends() -> None:
    names = ("王小英", "王英", "王", "欧阳小明", "")
    assert [points.mask_name(n) for n in names] == ["王*英", "王*", "王", "欧**明", ""]
