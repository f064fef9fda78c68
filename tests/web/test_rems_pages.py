"""The REMS pages: the monitoring form page, its answers and submission, the PDF (read with
pdftotext) and the forms due and overdue on the clinic dashboard."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
import time_machine

from tests.services.test_rems import _run_to_discharge, nasal_session, nasal_visit  # noqa: F401


def _pdf_text(content: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed"
    path = tmp_path / "form.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.usefixtures("chairs")
def test_the_form_is_completed_submitted_and_printed(client, nasal_session, prescriber, crna, nurse, tmp_path) -> None:  # noqa: F811
    t = _run_to_discharge(nasal_session, prescriber, crna, nurse)
    url = f"/clinic/sessions/{nasal_session.pk}/rems/"
    client.force_login(nurse)
    page = client.get(url).content.decode()
    assert "Still missing:" in page and "120/78 mmHg" in page and "136/78 mmHg" in page
    refused = client.post(url, {"step": "submitted", "reference": "FAX-9"})
    assert refused.status_code == 422 and "The form is not complete" in refused.content.decode()
    answers = {
        "step": "answers",
        "sedation": "no",
        "dissociation": "yes",
        "respiratory_depression": "no",
        "ready_to_leave_min": "95",
        "serious_adverse_events": "",
    }
    assert client.post(url, answers).status_code == 302
    assert client.post(url, {"step": "submitted", "reference": "FAX-9"}).status_code == 302
    assert "reference FAX-9" in client.get(url).content.decode()
    pdf = client.get(f"/clinic/sessions/{nasal_session.pk}/rems.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(pdf.content, tmp_path)
    for expected in (
        "SPRAVATO REMS Patient Monitoring Form",
        "Pat Example",
        "P-",
        "REMS-0001",
        "SP23K07 (exp 2030-12-31)",
        "120/78 mmHg",
        "136/78 mmHg",
        "95 min after the first device",
        "Dissociation",
        "FAX-9",
        "complete",
    ):
        assert expected in text, expected
    assert t is not None


@pytest.mark.usefixtures("chairs")
def test_the_dashboard_lists_forms_due_then_overdue(client, nasal_session, prescriber, crna, nurse) -> None:  # noqa: F811
    t = _run_to_discharge(nasal_session, prescriber, crna, nurse)
    with time_machine.travel(t + timedelta(days=1), tick=False):
        client.force_login(nurse)  # inside the travel: an idle session would be logged out
        page = client.get("/clinic/").content.decode()
    assert (
        "REMS monitoring forms" in page
        and 'sev-notify">due</span>' in page
        and '1</span><span class="tile-label">REMS forms' in page
    )
    with time_machine.travel(t + timedelta(days=9), tick=False):
        client.force_login(nurse)
        page = client.get("/clinic/").content.decode()
    assert 'sev-stop">overdue</span>' in page and "(1 overdue)" in page
