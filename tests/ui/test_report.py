"""The report's HTML and PDF: one self-contained file, figures inside, the not-a-medical-device line."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

from restbeat.ui.plots import png_bytes, pyplot_free_figure
from restbeat.ui.report import NOT_A_MEDICAL_DEVICE, Report, Section, report_html, write_report

MOMENT = dt.datetime(2026, 3, 11, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _section(heading: str, alt: str) -> Section:
    figure = pyplot_free_figure(4, 2)
    axes = figure.add_subplot()
    axes.plot([0, 1], [1, 2])
    axes.set_xlabel("time (h)")
    return Section(heading, png_bytes(figure), alt, ("RMSSD 31 ms < your usual 35-48 ms", "a & b"), figure)


def _report() -> Report:
    return Report(
        "restbeat: your shift of 11 March 2026",
        "Day shift 07:00-15:00 (UTC+01:00)",
        (_section("The shift", "HRV and HR over the shift"), _section("Trends", "Daily lnRMSSD")),
        MOMENT,
    )


def test_the_html_is_one_file_with_its_figures_inside_and_nothing_fetched() -> None:
    report = _report()
    page = report_html(report)
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)">', page)
    assert [alt for _, alt in images] == ["HRV and HR over the shift", "Daily lnRMSSD"]
    assert base64.b64decode(images[0][0]) == report.sections[0].png
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no network, no external stylesheet
    assert "<link" not in page and "<script" not in page
    assert page.count("<h2>") == 2 and '<html lang="en">' in page
    assert "a &amp; b" in page  # text is escaped
    assert NOT_A_MEDICAL_DEVICE in page
    assert "11 March 2026 at 18:30" in page and "UTC+01:00" in page


def test_write_report_writes_html_and_on_request_a_pdf_with_a_text_and_a_figure_page_per_section(
    tmp_path: Path,
) -> None:
    out = tmp_path / "report.html"
    assert write_report(_report(), out) == [out]
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    written = write_report(_report(), out, pdf=True)
    assert written == [out, tmp_path / "report.pdf"]
    pdf = written[1].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 4
