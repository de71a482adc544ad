"""The working-day calendar (工作日 / 调休) and the office hours built on it.

- :mod:`workdays.calendar` — :class:`~workdays.calendar.WorkCalendar`: official data,
  administrators' overrides, a provisional fallback; working-day arithmetic for deadlines;
- :mod:`workdays.store` — the overrides table and the cached calendar the app hands out;
- :mod:`workdays.office_hours` — when operators answer (working days, daily windows);
- :mod:`workdays.cli` — ``flask workdays ...``.

Used by the call flows, the case domain, follow-up and the reports; depends on ``core`` only.
"""
