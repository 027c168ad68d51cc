"""Claims as events (`borderwatch.extract.claims`): a party that reports the other side's hostile
act accuses it; a third party's report accuses no one."""

from __future__ import annotations

import pytest

from borderwatch.config import IngestConfig
from borderwatch.ingest import document_from_record
from borderwatch.models import Event
from borderwatch.pipeline import Pipeline


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def current(pipeline: Pipeline, text: str) -> list[Event]:
    doc = document_from_record({"id": "t", "text": text, "published": "2024-03-08"}, "test", IngestConfig())
    (analysis,) = pipeline.analyse([doc])
    return [e for e in analysis.events if e.is_current and not e.future]


def pairs(found: list[Event], kind: str) -> set[tuple[str, str]]:
    return {(a.code, r.code) for e in found if e.type == kind for a in e.actors for r in e.recipients}


def test_a_party_reporting_the_other_sides_fire_accuses_it(pipeline: Pipeline) -> None:
    found = current(pipeline, "Kyrgyzstan and Tajikistan traded blame on Friday.\n\nKyrgyzstan's border "
                              "service reported that Tajik forces had begun to fire again.")
    fights = [e for e in found if e.type == "FIGHT"]
    assert fights and fights[0].claim.stance == "alleged" and fights[0].claim.claimant.code == "KGZ"
    assert ("KGZ", "TJK") in pairs(found, "ACCUSE")


def test_the_target_of_an_alleged_attack_accuses_the_attacker(pipeline: Pipeline) -> None:
    found = current(pipeline, "Sudan's army said Ethiopian forces shelled Sudanese positions on Friday.")
    assert ("SDN", "ETH") in pairs(found, "ACCUSE")


def test_a_third_partys_report_accuses_no_one(pipeline: Pipeline) -> None:
    found = current(pipeline, "Vietnamese forces shelled Cambodian guerrilla camps near the border on "
                              "Friday, Thai military sources said.")
    assert [e.type for e in found] == ["FIGHT"]
