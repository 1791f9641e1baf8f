"""Fixtures of the report tests: rendered sample PDFs, the demo wave, a private media folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from reports import jobs
from reports.context import build_report_context
from reports.models import ReportJob
from reports.pdf.render import RenderedReport, render_pdf
from surveys import models as m
from tests.reports.sample import sample_analysis

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "report"


FAKE_PDF = b"%PDF-1.7\n% a stand-in for a rendered report\n%%EOF\n"


@pytest.fixture
def fake_render(monkeypatch):
    """Replace gap engine + WeasyPrint by a stub that records the job's state at each step."""
    seen: list[tuple[str, int]] = []

    def build_report(*, wave, language, options, progress):
        for pct in (10, 40, 70, 90):
            progress(pct, "step")
            job = ReportJob.objects.filter(wave=wave).order_by("-created_at").first()
            seen.append((job.status, job.progress))
        return RenderedReport(pdf=FAKE_PDF, page_count=3, refused=[])

    monkeypatch.setattr(jobs, "build_report", build_report)
    return seen


@pytest.fixture
def no_dispatch(monkeypatch):
    started: list[str] = []
    monkeypatch.setattr(jobs, "report_job_dispatch", lambda job: started.append(str(job.pk)))
    return started


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_text(pdf: bytes) -> str:
    """Text of every page, via pypdf, with line breaks collapsed to spaces."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_pages(pdf: bytes) -> list[str]:
    import io

    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def pdffonts(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


def save_page_images(pdf: bytes, name: str) -> list[Path]:
    """Every page as PNG in tests/artifacts/report/ (git-ignored), for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(ARTIFACTS / f"{name}.pdf"), str(ARTIFACTS / name)],
                   check=True)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


@pytest.fixture(scope="session")
def sample_reports() -> dict[str, tuple[dict, RenderedReport]]:
    """The hand-written analysis rendered once per language: (context, rendered PDF)."""
    out = {}
    for language in ("en", "ja"):
        ctx = build_report_context(sample_analysis(language), language=language)
        out[language] = (ctx, render_pdf(ctx))
    return out


@pytest.fixture(scope="session")
def sample_pages(sample_reports) -> dict[str, list[str]]:
    """The sample PDFs' text per page (pypdf extraction is slow: once per session)."""
    return {language: pdf_pages(rendered.pdf) for language, (_ctx, rendered) in sample_reports.items()}


@pytest.fixture(scope="module")
def demo_wave_id(django_db_setup, django_db_blocker):
    """The demo organization (load_demo, 60 responses a side-wave), built once per module and removed after."""
    with django_db_blocker.unblock():
        call_command("load_demo", "--responses", "60", "--seed", "5", stdout=open("/dev/null", "w"))
        wave = m.Wave.objects.select_related("previous_wave").filter(previous_wave__isnull=False).first()
        org_id = wave.organization_id
    yield wave.pk
    with django_db_blocker.unblock():
        from reports.models import ReportJob
        from surveys.demo import demo_delete

        ReportJob.objects.filter(wave__organization_id=org_id).delete()
        demo_delete()
