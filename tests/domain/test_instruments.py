from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketamine_clinic.domain import instruments
from ketamine_clinic.domain.instruments import INSTRUMENTS, InstrumentError, score


def test_phq9_sums_items_and_bands_the_total() -> None:
    result = score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0])
    assert (result.total, result.band, result.flags) == (8, "mild", ())


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none-minimal"),
        (4, "none-minimal"),
        (5, "mild"),
        (10, "moderate"),
        (15, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands_follow_the_published_cut_points(total: int, band: str) -> None:
    answers = [3] * (total // 3) + ([total % 3] if total % 3 else [])
    answers += [0] * (9 - len(answers))
    answers = answers[:8] + [0] if total <= 24 else answers
    assert score("phq9", answers).band == band


def test_phq9_item9_of_one_raises_the_critical_flag() -> None:
    assert score("phq9", [0] * 8 + [1]).flags == ("phq9_item9",)


def test_phq9_major_depressive_syndrome_needs_a_core_item_and_five_positive() -> None:
    assert score("phq9", [2, 0, 2, 2, 2, 0, 0, 0, 1]).details["major_depressive_syndrome"] is True
    assert score("phq9", [0, 0, 2, 2, 2, 2, 2, 0, 0]).details["major_depressive_syndrome"] is False


def test_gad7_bands() -> None:
    assert score("gad7", [3, 3, 3, 3, 3, 0, 0]).band == "severe"
    assert score("gad7", [1, 1, 1, 1, 1, 0, 0]).band == "mild"


def test_pcl5_cluster_rule_and_item16_flag() -> None:
    endorsed = [2, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0]
    result = score("pcl5", endorsed)
    assert result.details["dsm5_cluster_rule"] is True and result.flags == ("pcl5_item16",)
    assert result.band == "below threshold"
    assert score("pcl5", [2] * 17 + [0, 0, 0]).band == "probable PTSD"
    missing_c = [2, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0]
    assert score("pcl5", missing_c).details["dsm5_cluster_rule"] is False


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        ([0, 0, None, None, None, 0, None], "none"),
        ([1, 0, None, None, None, 0, None], "low"),
        ([1, 1, 1, 0, 0, 0, None], "moderate"),
        ([1, 0, None, None, None, 1, 0], "moderate"),
        ([1, 1, 1, 1, 0, 0, None], "high"),
        ([1, 1, 0, 0, 1, 0, None], "high"),
        ([0, 0, None, None, None, 1, 1], "high"),
    ],
)
def test_cssrs_screener_skip_logic_and_risk_tiers(answers: list[int | None], risk: str) -> None:
    result = score("cssrs_screen", answers)
    assert result.details["risk"] == risk
    assert ("cssrs_high_risk" in result.flags) is (risk == "high")


def test_cssrs_refuses_answers_that_the_skip_logic_skips() -> None:
    with pytest.raises(InstrumentError, match="items 3-5 are skipped"):
        score("cssrs_screen", [1, 0, 1, 0, 0, 0, None])
    with pytest.raises(InstrumentError, match="item 7 applies only"):
        score("cssrs_screen", [1, 0, None, None, None, 0, 1])
    with pytest.raises(InstrumentError, match="item 4"):
        score("cssrs_screen", [1, 1, 1, None, 0, 0, None])


def test_qids_takes_the_maximum_of_the_sleep_appetite_and_psychomotor_groups() -> None:
    answers = [3, 1, 0, 2, 1, 0, 2, 1, 0, 1, 1, 0, 1, 1, 2, 3]
    # max(3,1,0,2)=3 + 1 + max(0,2,1,0)=2 + 1+1+0+1+1 + max(2,3)=3
    assert score("qids_sr16", answers).total == 13


def test_any_positive_qids_item12_is_flagged() -> None:
    assert score("qids_sr16", [0] * 16).flags == ()
    flagged = score("qids_sr16", [0] * 11 + [1] + [0] * 4)
    assert flagged.flags == ("qids_item12",) and flagged.details["item12"] == 1


def test_madrs_item10_flag_and_bands() -> None:
    result = score("madrs", [4] * 10)
    assert (result.total, result.band, result.flags) == (40, "severe", ("madrs_item10",))


def test_hamd_item16_not_assessed_is_left_out_of_the_total() -> None:
    assessed = score("hamd17", [1] * 15 + [2, 1])
    not_assessed = score("hamd17", [1] * 15 + [3, 1])
    assert assessed.total == 18 and not_assessed.total == 16
    assert not_assessed.details["item16_assessed"] is False
    assert score("hamd17", [0, 0, 2] + [0] * 14).flags == ("hamd_item3",)


def test_hamd_item_ranges_differ_per_item() -> None:
    with pytest.raises(InstrumentError, match="item 4: 3 is outside 0 to 2"):
        score("hamd17", [0, 0, 0, 3] + [0] * 13)


def test_cadss_bprs_and_aldrete() -> None:
    assert score("cadss", [1] * 5 + [0] * 18).flags == ("cadss_significant",)
    assert score("cadss", [1] * 4 + [0] * 19).flags == ()
    assert score("bprs_positive", [1, 1, 4, 1]).flags == ("bprs_positive_symptoms",)
    assert score("bprs_positive", [1, 1, 1, 1]).band == "not present"
    assert score("aldrete", [2, 2, 2, 2, 1]).band == "ready for discharge"
    assert score("aldrete", [2, 2, 2, 1, 1]).band == "not ready"


@pytest.mark.parametrize(
    ("answers", "match"),
    [
        ([0] * 8, "needs 9 answers, got 8"),
        ([0] * 8 + [4], "item 9: 4 is outside 0 to 3"),
        ([0] * 8 + [-1], "item 9: -1 is outside 0 to 3"),
        ([0] * 8 + [True], "item 9: answer a whole number from 0 to 3"),
        ([0] * 8 + [1.5], "item 9: answer a whole number"),
        ([0] * 8 + [None], "item 9: answer a whole number"),
    ],
)
def test_bad_answers_name_the_item_and_the_allowed_range(answers: list[object], match: str) -> None:
    with pytest.raises(InstrumentError, match=match) as error:
        score("phq9", answers)  # type: ignore[arg-type]
    assert isinstance(error.value, ValueError)


def test_the_error_carries_the_item_and_range() -> None:
    with pytest.raises(InstrumentError) as error:
        score("gad7", [0, 0, 9, 0, 0, 0, 0])
    assert (error.value.item, error.value.allowed, error.value.field) == (3, "0 to 3", "item_3")


def test_an_unknown_instrument_is_an_error() -> None:
    with pytest.raises(InstrumentError, match="unknown instrument 'beck'"):
        instruments.get("beck")


def test_licensed_instruments_ship_no_item_text() -> None:
    for code in ("madrs", "qids_sr16", "cadss"):
        assert all(item.text == f"Item {item.number}" for item in INSTRUMENTS[code].items)
    assert INSTRUMENTS["phq9"].items[8].text.startswith("Thoughts that you would be better off dead")
    assert INSTRUMENTS["phq9"].loinc_total == "44261-6"


def _answers(code: str) -> st.SearchStrategy[list[int]]:
    items = INSTRUMENTS[code].items
    return st.tuples(*[st.integers(i.low, i.high) for i in items]).map(list)


PLAIN = [c for c in INSTRUMENTS if c != "cssrs_screen"]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_totals_stay_within_the_instrument_range(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(PLAIN))
    result = score(code, data.draw(_answers(code)))
    low = sum(i.low for i in INSTRUMENTS[code].items)
    assert low <= result.total <= INSTRUMENTS[code].max_total


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_bands_are_monotone_in_the_total(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(PLAIN))
    a, b = score(code, data.draw(_answers(code))), score(code, data.draw(_answers(code)))
    order = [label for _, label in INSTRUMENTS[code].bands]
    if a.total <= b.total:
        assert order.index(a.band) <= order.index(b.band)
    else:
        assert order.index(a.band) >= order.index(b.band)


def test_hamd_maximum_counts_item16_up_to_two() -> None:
    assert INSTRUMENTS["hamd17"].max_total == 52
    assert score("hamd17", [4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 2, 4, 2, 2]).total == 52
