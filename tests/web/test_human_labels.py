"""No internal code reaches a person: the session page's score flags and the printed
session record show the labels defined in the domain (web.labels), never snake_case codes
such as ``phq9_item9`` or ``iv_racemic_depression``."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

from ketamine_clinic.services import measures, schedule, sessions
from tests.conftest import VITALS
from tests.web.test_documents import pdf_text

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


class _Text(HTMLParser):
    """The text a reader sees: text nodes outside script and style."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "template"}:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _flagged_session(running_session, nurse, prescriber):  # type: ignore[no-untyped-def]
    """A running session whose day has a PHQ-9 with item 9 answered and a rating with a flag."""
    at = running_session.opened_at + timedelta(minutes=20)
    measures.do_record_assessment(
        running_session.patient, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1], at=at - timedelta(minutes=19), acting_user=nurse
    )
    sessions.do_record_vitals(running_session, VITALS, at=at, acting_user=nurse)
    return running_session


def test_the_session_page_shows_no_internal_code(client, running_session, nurse, prescriber) -> None:
    session = _flagged_session(running_session, nurse, prescriber)
    client.force_login(nurse)
    text = visible_text(client.get(f"/clinic/sessions/{session.pk}/").content.decode())
    assert "PHQ-9 item 9" in text
    assert SNAKE.findall(text) == []


def test_the_printed_session_record_shows_no_internal_code(client, running_session, nurse, prescriber) -> None:
    session = _flagged_session(running_session, nurse, prescriber)
    client.force_login(prescriber)
    response = client.get(f"/clinic/sessions/{session.pk}/record.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "PHQ-9 item 9" in text
    assert SNAKE.findall(text) == []


def test_the_printed_progress_report_shows_no_internal_code(client, course, nurse, prescriber, front_desk) -> None:
    first = course.visits.order_by("starts_at").first()
    schedule.do_mark_no_show(first, at=first.starts_at + timedelta(hours=1), acting_user=front_desk)
    measures.do_record_assessment(
        course.patient, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1], at=first.starts_at, acting_user=nurse
    )
    client.force_login(prescriber)
    response = client.get(f"/clinic/patients/{course.patient_id}/progress.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "PHQ-9 item 9" in text and "no-show" in text
    assert SNAKE.findall(text) == []
