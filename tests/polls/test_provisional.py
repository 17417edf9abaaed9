"""While a named poll is open its count is live but provisional: a proposal states no verdict
(passed, quorum_met, approved) until the close, on the poll, its results and the live stream;
the close then counts the same ballots into the outcome."""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.polls import support as s


async def test_an_open_owners_poll_states_no_verdict_until_it_closes(client: Any, session: Any) -> None:
    e = await s.estate(session, areas=["100.00", "100.00", "100.00", "100.00"])
    poll = await s.opened(client, e.c, e.committee, kind="proposal", electorate="owners", options=[],
                          matter="raise_fund", secret=False)
    await s.vote(client, e.c, e.owners[0], poll["id"], choices=["no"])  # far from any threshold so far

    for who, lang in ((e.owners[1], "zh-CN"), (e.committee, "en")):
        view = (await client.get(s.url(e.c, poll["id"], "/results"), headers=f.auth(who, lang))).json()
        result = view["result"]
        assert view["provisional"] is True and view["visible"] is True
        assert (result["passed"], result["quorum_met"], result["approved"]) == (None, None, None)
        assert (result["yes"], result["no"]) == (0, 1)  # a named poll's count stays live
        assert [c["met"] for c in result["criteria"]] == [False, False, False, False]  # where each threshold stands
        assert result["explanation_zh"].startswith("投票尚未结束，截止后才判定是否通过。目前：参与面积 25.0%")
        assert result["explanation_en"].startswith("Voting is still open; whether it passes is decided at the close.")
        for text in (result["explanation_zh"], result["explanation_en"]):
            assert "未通过" not in text and "Not passed" not in text
        shown = await s.get_poll(client, e.c, who, poll["id"])
        assert shown["passed"] is None and "未通过" not in (shown["summary"] or "")

    closed = await s.close(client, e.c, e.committee, poll["id"])
    result = (await s.results(client, e.c, e.owners[1], poll["id"]))["result"]
    assert closed["passed"] is False and result["passed"] is False and result["quorum_met"] is False
    assert result["explanation_zh"].startswith("未通过：")
