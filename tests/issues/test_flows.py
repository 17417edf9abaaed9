"""The lifecycle table, tested directly: every state, every action, every kind of caller."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.issues import flows
from app.issues.flows import Actor, Status

EVERYONE = frozenset(Actor)


def test_resolved_is_not_closed_only_verification_closes():
    closers = {name for name, tr in flows.TRANSITIONS.items() if tr.target is Status.closed}
    assert closers == {"verify", "close_on_spot"}
    assert flows.TRANSITIONS["verify"].sources == {Status.resolved}


def test_the_reporter_or_grid_worker_verifies_but_not_the_handler():
    flows.check("verify", Status.resolved, frozenset({Actor.reporter}))
    flows.check("verify", Status.resolved, frozenset({Actor.grid_worker}))
    with pytest.raises(flows.WrongActor):
        flows.check("verify", Status.resolved, frozenset({Actor.handler, Actor.committee}))


def test_a_step_impossible_now_names_the_allowed_ones():
    with pytest.raises(flows.NotAllowedFrom) as err:
        flows.check("resolve", Status.reported, EVERYONE)
    assert err.value.allowed == ["accept", "reject", "merge", "dispatch", "close_on_spot"]


def test_state_is_checked_before_the_caller():
    with pytest.raises(flows.NotAllowedFrom):
        flows.check("verify", Status.closed, frozenset())


def test_final_states_allow_nothing():
    for status in flows.FINAL:
        assert flows.allowed_actions(status) == []


def test_every_open_state_has_a_way_forward_and_every_state_is_reachable():
    reachable = {Status.reported}
    changed = True
    while changed:
        changed = False
        for tr in flows.TRANSITIONS.values():
            if tr.sources & reachable and tr.target and tr.target not in reachable:
                reachable.add(tr.target)
                changed = True
    assert reachable == set(Status)
    for status in flows.OPEN | {Status.resolved}:
        assert flows.allowed_actions(status), status


def test_third_reopen_escalates():
    assert [flows.escalates_on_reopen(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


def test_unknown_action():
    with pytest.raises(flows.UnknownAction):
        flows.check("teleport", Status.reported, EVERYONE)


@given(st.sampled_from(list(Status)), st.sampled_from(list(flows.TRANSITIONS)),
       st.frozensets(st.sampled_from(list(Actor))))
def test_check_agrees_with_the_table(status, action, actors):
    tr = flows.TRANSITIONS[action]
    try:
        assert flows.check(action, status, actors) is tr
        assert status in tr.sources and tr.actors & actors
    except flows.NotAllowedFrom as exc:
        assert status not in tr.sources and action not in exc.allowed
    except flows.WrongActor:
        assert status in tr.sources and not tr.actors & actors
