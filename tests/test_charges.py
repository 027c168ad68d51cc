"""Charges as accusations (`borderwatch.extract.charges`): a reported party that calls the other
side's conduct a provocation, a violation or complicity accuses it, with no accusing verb."""

from __future__ import annotations

import pytest

from borderwatch.models import Event
from borderwatch.pipeline import Pipeline
from conftest import analyse_text


def accusations(pipeline: Pipeline, text: str) -> set[tuple[str, str]]:
    found: list[Event] = analyse_text(pipeline, text).events
    return {(a.code, r.code) for e in found if e.type == "ACCUSE" and e.is_current
            for a in e.actors for r in e.recipients}


@pytest.mark.parametrize(("text", "pair"), [
    ("Armenia's defence ministry said on Monday that the escalation was caused by the provocative "
     "actions of the armed forces of Azerbaijan.", ("ARM", "AZE")),
    ("Azerbaijan said the shooting was instigated by Armenian soldiers.", ("AZE", "ARM")),
    ("Lithuania's foreign minister said he had told NATO allies of Russia's violation of the "
     "treaty.", ("LTU", "RUS")),
    ('Venezuela\'s defence minister said: "These incursions have Colombia\'s complicity."', ("VEN", "COL")),
])
def test_a_charge_laid_on_the_other_side_is_an_accusation(pipeline: Pipeline, text: str,
                                                          pair: tuple[str, str]) -> None:
    assert pair in accusations(pipeline, text)


@pytest.mark.parametrize("text", [
    # The violated sovereignty is the victim's, not the culprit's.
    "Pakistan's foreign ministry said the violation of Pakistan's sovereignty was unacceptable.",
    # The outlet's own words: no party lays the charge.
    "Russia's aggression against Ukraine entered its third year.",
    # Denied: no charge is laid.
    "Armenia said there had been no provocation by Azerbaijani forces.",
])
def test_no_accusation_without_a_party_charging_another(pipeline: Pipeline, text: str) -> None:
    assert accusations(pipeline, text) == set()


@pytest.mark.parametrize(("text", "pair"), [
    ("Beijing said Taipei was to blame for the rising tensions.", ("CHN", "TWN")),
    ("India lodged a strong protest with China over the incursion.", ("IND", "CHN")),
    ("Cambodia complained to the UN Security Council about Thai aggression.", ("KHM", "THA")),
    # An organisation that hears a complaint is its audience; what it hears about is the target.
    ("Moldova filed a complaint with the OSCE over Russian troop movements.", ("MDA", "RUS")),
    ("Georgia lodged a formal protest with the EU over Russia's borderisation.", ("GEO", "RUS")),
])
def test_blame_protests_and_complaints_name_whom_they_accuse(pipeline: Pipeline, text: str,
                                                             pair: tuple[str, str]) -> None:
    found = accusations(pipeline, text)
    assert pair in found and (pair[1], pair[0]) not in found
    assert not {(actor, audience) for actor, audience in found if audience in ("UN", "OSCE", "EU")}
