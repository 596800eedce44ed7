"""`cfteval bench generation` (c) and (d): the openai backend against the offline one; a resume.

Plumbing only, on the tiny model and a few tokens: both runs complete, their tokens and
generation times are read back, and a server the bench did not start is left running. The
figures themselves are the bench's to measure, on a quiet machine.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cfteval.backends.local_server import LocalVLLMServer
from cfteval.bench_generation import MEASUREMENTS, BenchSettings, bench_served
from tests.helpers import BENCHMARKS_DIR, needs_benchmarks

pytestmark = [needs_benchmarks, pytest.mark.slow]


def test_openai_vs_offline_measures_both_and_leaves_a_given_server_running(
    tiny_model_dir: Path, tiny_server: LocalVLLMServer, tmp_path: Path
) -> None:
    assert MEASUREMENTS["c"] is bench_served
    settings = BenchSettings(
        model=str(tiny_model_dir), limit=2, max_tokens=8, data_dir=BENCHMARKS_DIR
    )
    measurement = bench_served(settings, tmp_path, server=tiny_server)
    assert measurement.ours != "failed", measurement.note
    assert measurement.ratio is not None and measurement.ratio > 0
    assert "tok/s" in measurement.ours and "tok/s" in measurement.baseline
    assert "not timed" in measurement.note
    health = tiny_server.base_url.removesuffix("/v1") + "/health"
    assert httpx.get(health, timeout=5).status_code == 200


def test_resume_measurement_kills_reruns_and_reports_the_work_on_disk(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """(d) plumbing on the tiny model: an uninterrupted run, a killed one, its rerun."""
    settings = BenchSettings(
        model=str(tiny_model_dir), limit=4, max_tokens=400, data_dir=BENCHMARKS_DIR
    )
    measurement = MEASUREMENTS["d"](settings, tmp_path)
    assert measurement.ours != "failed", measurement.note
    assert measurement.ratio is not None and measurement.ratio > 0
    assert "output tokens on disk" in measurement.note
    stores = list((tmp_path / "d2").glob("*/completions.jsonl"))
    assert len(stores) == 1 and len(stores[0].read_text().splitlines()) >= 4
