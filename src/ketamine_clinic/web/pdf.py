"""PDF and CSV responses for reports (WeasyPrint renders the same templates as the pages)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def pdf_response(request: HttpRequest, template: str, context: dict[str, Any], filename: str) -> HttpResponse:
    """Render ``template`` to a PDF attachment named ``filename``."""
    from weasyprint import HTML

    html = render_to_string(template, context, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> HttpResponse:
    """A CSV attachment: one header row, then ``rows``."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return response


def pdf_bytes(request: HttpRequest, template: str, context: dict[str, Any]) -> bytes:
    """Render ``template`` to PDF bytes (the caller audits and sends them)."""
    from weasyprint import HTML

    html = render_to_string(template, context, request=request)
    return bytes(HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf())
