"""Who may fetch a photo. A public issue's photos (and the community's cover) have one lasting URL
that anyone may fetch and every cache may keep; every other photo — a staff-only issue's report,
after and comment photos, an upload attached to nothing yet — only a short-lived signed URL, handed
to those who may see it. Anyone else gets 404 with ``private, no-store``, the thumbnail too."""

from __future__ import annotations

from datetime import timedelta

from app.core import clock
from app.core.config import get_settings
from tests import factories as f
from tests.factories import assert_problem
from tests.issues.support import act, jpeg, photo, place, report

PUBLIC = "public, max-age=31536000, immutable"
PRIVATE = "private, no-store"


def bare(url: str) -> str:
    return url.split("?")[0]


async def assert_served(client, url: str, cache: str) -> None:
    r = await client.get(url)  # no Authorization: an <img> cannot send one
    assert r.status_code == 200, (url, r.text)
    assert r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    assert r.headers["cache-control"] == cache


async def assert_hidden(client, url: str, headers: dict[str, str] | None = None) -> None:
    r = await client.get(url, headers=headers or {})
    assert_problem(r, 404, "upload_not_found")
    assert r.headers["cache-control"] == PRIVATE


async def issue_as(client, p, issue_id: str, who) -> dict:
    r = await client.get(f"/api/v1/communities/{p.c.id}/issues/{issue_id}", headers=f.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def dispute_with_photo(client, p) -> tuple[dict, str]:
    """A staff-only issue with a photo, dispatched to the handler unit."""
    pic = await photo(client, p.c, p.grid_worker)
    issue = await report(client, p, who=p.grid_worker, title="楼上漏水邻里纠纷", staff_only=True,
                         source="grid_patrol", photo_ids=[pic])
    assert (await act(client, p, issue["id"], p.committee, "dispatch", handler_id=p.handler_id)).status_code == 200
    return issue, pic


async def test_a_staff_only_photo_and_its_thumbnail_are_404_to_a_resident_a_visitor_and_another_community(
        client, session):
    p = await place(client, session)
    q = await place(client, session, name="隔壁社区")
    issue, pic = await dispute_with_photo(client, p)
    shown = (await issue_as(client, p, issue["id"], p.committee))["photos"][0]
    urls = [bare(shown["url"]), bare(shown["thumb_url"])]
    assert all(u.startswith(f"http://testserver/media/{p.c.id}/{pic}.") for u in urls)

    for who in (None, p.resident, q.committee):  # a signed-out visitor, a resident, another committee
        for url in urls:
            await assert_hidden(client, url, f.auth(who) if who else None)
    assert_problem(await client.get(f"/api/v1/communities/{p.c.id}/uploads/{pic}", headers=f.auth(p.resident)),
                   404, "upload_not_found")
    assert_problem(await client.get(f"/api/v1/communities/{q.c.id}/uploads/{pic}", headers=f.auth(q.committee)),
                   404, "upload_not_found")
    assert_problem(await client.get(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}",
                                    headers=f.auth(p.resident)), 404, "issue_not_found")


async def test_the_dispatched_handler_and_the_committee_get_a_staff_only_photo_by_signed_url(client, session):
    p = await place(client, session)
    issue, pic = await dispute_with_photo(client, p)

    for who in (p.handler, p.committee, p.grid_worker):
        shown = (await issue_as(client, p, issue["id"], who))["photos"][0]
        assert "?exp=" in shown["url"] and "&sig=" in shown["thumb_url"]
        await assert_served(client, shown["url"], PRIVATE)
        await assert_served(client, shown["thumb_url"], PRIVATE)
    read = await client.get(f"/api/v1/communities/{p.c.id}/uploads/{pic}", headers=f.auth(p.committee))
    assert read.status_code == 200 and "&sig=" in read.json()["url"]
    await assert_served(client, read.json()["thumb_url"], PRIVATE)


async def test_a_public_issues_photos_have_one_lasting_url_every_cache_may_keep(client, session):
    p = await place(client, session)
    pic = await photo(client, p.c, p.resident)
    issue = await report(client, p, photo_ids=[pic])

    shown = issue["photos"][0]
    assert shown["url"] == f"http://testserver/media/{p.c.id}/{pic}.jpg"
    assert shown["thumb_url"] == f"http://testserver/media/{p.c.id}/{pic}.thumb.jpg"
    assert (await issue_as(client, p, issue["id"], p.neighbour))["photos"][0] == shown
    await assert_served(client, shown["url"], PUBLIC)
    await assert_served(client, shown["thumb_url"], PUBLIC)


async def test_an_upload_attached_to_nothing_is_seen_only_by_its_uploader_and_the_committee(client, session):
    p = await place(client, session)
    r = await client.post(f"/api/v1/communities/{p.c.id}/uploads", headers=f.auth(p.resident),
                          files={"file": ("p.jpg", jpeg(), "image/jpeg")})
    upload = r.json()
    read = f"/api/v1/communities/{p.c.id}/uploads/{upload['id']}"

    await assert_served(client, upload["url"], PRIVATE)  # the uploader's own preview
    await assert_hidden(client, bare(upload["url"]))
    await assert_hidden(client, bare(upload["thumb_url"]))
    assert_problem(await client.get(read, headers=f.auth(p.neighbour)), 404, "upload_not_found")
    assert (await client.get(read, headers=f.auth(p.committee))).status_code == 200
    taken = await client.post(f"/api/v1/communities/{p.c.id}/issues", headers=f.auth(p.neighbour),
                              json={"title": "路灯", "category_id": p.category_id, "photo_ids": [upload["id"]]})
    assert_problem(taken, 422, "upload_not_found")  # nor may another resident attach it (as if unknown)

    await report(client, p, photo_ids=[upload["id"]])
    await assert_served(client, bare(upload["url"]), PUBLIC)
    assert (await client.get(read, headers=f.auth(p.neighbour))).json()["url"] == bare(upload["url"])


async def test_a_signed_url_expires_and_cannot_be_altered(client, session, monkeypatch):
    p = await place(client, session)
    issue, _ = await dispute_with_photo(client, p)
    shown = (await issue_as(client, p, issue["id"], p.committee))["photos"][0]
    url, thumb = shown["url"], shown["thumb_url"]
    path, query = url.split("?")
    exp = int(query.split("&")[0].removeprefix("exp="))
    sig = query.split("sig=")[1]
    window = get_settings().media_url_seconds
    assert clock.now().timestamp() + window <= exp <= clock.now().timestamp() + 2 * window

    other_sig = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    for altered in (f"{path}?exp={exp}&sig={other_sig}", f"{path}?exp={exp + window}&sig={sig}",
                    f"{bare(thumb)}?exp={exp}&sig={sig}", f"{path}?exp={exp}", f"{path}?sig={sig}",
                    f"{path}?exp=soon&sig={sig}", f"{path}?exp={exp}&sig=%E4%BD%A0"):
        await assert_hidden(client, altered)
    await assert_served(client, url, PRIVATE)

    later = clock.now() + timedelta(seconds=2 * window + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    await assert_hidden(client, url)
    await assert_hidden(client, thumb)


async def test_after_and_comment_photos_of_a_staff_only_issue_are_private_too(client, session):
    p = await place(client, session)
    issue, _ = await dispute_with_photo(client, p)
    after = await photo(client, p.c, p.handler)
    said = await photo(client, p.c, p.committee)
    resolved = await act(client, p, issue["id"], p.handler, "resolve", note="已调解", photo_ids=[after])
    assert resolved.status_code == 200, resolved.text
    comment = await client.post(f"/api/v1/communities/{p.c.id}/issues/{issue['id']}/comments",
                                headers=f.auth(p.committee), json={"body": "现场照片", "photo_ids": [said]})
    assert comment.status_code == 201, comment.text

    shown = [x for x in resolved.json()["photos"] if x["kind"] == "after"] + comment.json()["photos"]
    assert len(shown) == 2
    for x in shown:
        await assert_served(client, x["url"], PRIVATE)
        await assert_hidden(client, bare(x["url"]))
        await assert_hidden(client, bare(x["thumb_url"]))


async def test_a_public_issues_comment_photo_is_public_until_the_comment_moves_to_a_staff_only_issue(
        client, session):
    p = await place(client, session)
    public = await report(client, p, title="3栋楼道堆物")
    pic = await photo(client, p.c, p.neighbour)
    comment = await client.post(f"/api/v1/communities/{p.c.id}/issues/{public['id']}/comments",
                                headers=f.auth(p.neighbour), json={"body": "还在", "photo_ids": [pic]})
    url = comment.json()["photos"][0]["url"]
    await assert_served(client, url, PUBLIC)

    dispute = await report(client, p, who=p.committee, title="楼道堆物纠纷", staff_only=True)
    merged = await act(client, p, public["id"], p.committee, "merge", into=dispute["id"], reason="同一纠纷")
    assert merged.status_code == 200, merged.text

    await assert_hidden(client, url)  # its comment now belongs to a staff-only issue


async def test_a_photo_on_a_staff_only_issue_stays_private_when_also_put_on_a_public_one(client, session):
    p = await place(client, session)
    _, pic = await dispute_with_photo(client, p)
    public = await report(client, p, who=p.committee, title="路灯不亮", photo_ids=[pic])
    await assert_hidden(client, public["photos"][0]["url"])  # its lasting URL would show a dispute


async def test_paths_that_are_not_photos_are_404(client, session):
    p = await place(client, session)
    pic = await photo(client, p.c, p.resident)
    await report(client, p, photo_ids=[pic])
    for path in (f"/media/{p.c.id}/{pic}.gif", f"/media/{p.c.id}/{pic}", f"/media/{p.c.id}/../{pic}.jpg",
                 f"/media/{p.c.id}/{pic[:-1]}{'0' if pic[-1] != '0' else '1'}.jpg",  # one character off
                 f"/media/{'0' * 26}/{pic}.jpg", f"/media/{p.c.id}/.{pic}.jpg"):
        r = await client.get(path)
        assert r.status_code == 404, path

