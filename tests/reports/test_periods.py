"""Report periods: names of the periods a picker or a link gives as two dates."""

from __future__ import annotations

from datetime import date

from reports import periods


def test_two_dates_spanning_whole_months_keep_the_months_name() -> None:
    assert periods.custom(date(2026, 11, 1), date(2026, 11, 30)).label == "2026年11月"
    assert periods.custom(date(2026, 10, 1), date(2026, 12, 31)).label == "2026年第4季度"
    assert periods.custom(date(2026, 1, 1), date(2026, 12, 31)).label == "2026年"
    assert periods.custom(date(2026, 8, 1), date(2026, 9, 30)).label == "2026-08起2个月"


def test_other_dates_are_named_by_their_days() -> None:
    assert periods.custom(date(2026, 11, 2), date(2026, 11, 30)).label == (
        "2026-11-02至2026-11-30")
