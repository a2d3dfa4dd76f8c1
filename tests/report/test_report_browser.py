"""The report in a real browser: headless Chromium (Debian's package, installed when missing)
renders it with no console error, charts in the DOM, and a screenshot that is not blank."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bedrock_ext.cli.main import main


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"could not install Debian's chromium for the browser test: {done.stderr[-500:]}")
    found = shutil.which("chromium")
    assert found, "chromium installed but not on PATH"
    return found


def _run(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_renders_in_chromium(marts: Path, tmp_path: Path) -> None:
    from PIL import Image

    browser = _chromium()
    out = tmp_path / "report.html"
    assert main(["report", "--duckdb", str(marts), "--out", str(out)]) == 0
    dom = _run(browser, "--dump-dom", out.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 8 and dom.stdout.count('class="bar"') >= 15
    assert "Every row accounted for" in dom.stdout and "<script" not in dom.stdout.lower()
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    shot = tmp_path / "report.png"
    taken = _run(browser, f"--screenshot={shot}", "--window-size=1280,2200", "--hide-scrollbars", out.as_uri())
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50  # text and charts, not a blank page
    greens = sum(n for n, (r, g, b) in colours if (r, g, b) == (0x3A, 0x9D, 0x5D))
    assert greens > 200  # the "answered" bar is drawn
