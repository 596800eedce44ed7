"""`cfteval plot` writes real images; `cfteval report` is one page a real browser renders."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.helpers import run_cfteval
from tests.run_builder import make_samples, write_known_run

BROWSER = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)


def _runs(out):
    for temperature, right in ((0.0, 3), (0.6, 2)):
        for benchmark in ("gsm8k", "math500"):
            verdicts = {f"{benchmark}-{i}": [i < right] for i in range(5)}
            samples = make_samples(verdicts, temperature=temperature, timed_out={f"{benchmark}-4"})
            write_known_run(out, "smol", benchmark, samples, temperature=temperature)
    write_known_run(out, "other", "gsm8k", make_samples({"gsm8k-0": [True]}))


def test_plot_writes_png_and_svg(tmp_path):
    _runs(tmp_path / "runs")
    selection = tmp_path / "selection.csv"
    selection.write_text("step,accuracy,stderr\n2,30.0,2.0\n4,41.5,2.1\n6,38.0,2.0\n")
    result = run_cfteval(
        "plot", str(tmp_path / "runs"), "-o", str(tmp_path / "plots"), "--selection", str(selection),
        timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for stem in ("accuracy-vs-temperature", "accuracy-per-benchmark", "accuracy-vs-step"):
        png = (tmp_path / "plots" / f"{stem}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5000, stem
        svg = (tmp_path / "plots" / f"{stem}.svg").read_text()
        assert "<svg" in svg, stem
    # The best step is marked in the legend (text in the SVG).
    assert "best: step 4 (41.5)" in (tmp_path / "plots" / "accuracy-vs-step.svg").read_text()


def test_plot_rejects_a_selection_without_its_columns(tmp_path):
    selection = tmp_path / "selection.csv"
    selection.write_text("step,score\n2,30\n")
    result = run_cfteval("plot", "--selection", str(selection), "-o", str(tmp_path), timeout=120)
    assert result.returncode == 2 and "missing column(s) accuracy, stderr" in result.stderr


def _render(url: str, tmp_path) -> str:
    """The DOM after scripts ran, from a real headless Chromium."""
    command = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000", "--dump-dom", url,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (.ci/run installs Debian's)")
def test_report_renders_in_a_headless_browser(tmp_path):
    _runs(tmp_path / "runs")
    page = tmp_path / "report.html"
    result = run_cfteval("report", str(tmp_path / "runs"), "-o", str(page), timeout=180)
    assert result.returncode == 0, result.stderr
    html = page.read_text()
    assert "http://" not in html and "https://" not in html  # self-contained
    dom = _render(page.as_uri(), tmp_path)
    assert '<table id="runs">' in dom and 'class="leaderboard"' in dom
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', dom)) == 2
    assert dom.count('class="samples"') == 5  # one per run
    assert 'href="#run-smol-gsm8k-direct-t0-6"' in dom and 'id="run-smol-gsm8k-direct-t0-6"' in dom
    # The filter, run by the browser: only wrong answers stay visible.
    filtered = _render(page.as_uri() + "#filter=wrong", tmp_path)
    rows = re.findall(r'<tr class="(right|wrong)"[^>]*?(style="display: none;")?>', filtered)
    assert rows and all((cls == "wrong") == (hidden == "") for cls, hidden in rows)
    timeouts = _render(page.as_uri() + "#filter=timeouts", tmp_path)
    shown = re.findall(r'<tr class="\w+" data-correct="\d" data-timeout="(\d)">', timeouts)
    assert shown and set(shown) == {"1"}  # rows without a style attribute: time-outs only
