"""`cfteval bench generation` (a), (c) and (d): the bare baseline's inputs, the openai backend
against the offline one, a resume.

Plumbing only, on the tiny model and a few tokens: both runs complete, their tokens and
generation times are read back, and a server the bench did not start is left running. The
figures themselves are the bench's to measure, on a quiet machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cfteval.backends.decoding import request_seed
from cfteval.backends.local_server import LocalVLLMServer
from cfteval.bench_generation import MEASUREMENTS, bench_served
from cfteval.bench_runs import BenchSettings, write_bare_inputs
from cfteval.evaluate import EvalConfig, plan_runs
from cfteval.models import resolve_model
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


def test_the_bare_baseline_is_sent_the_prompts_and_seeds_eval_sends(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """(a) compares tokens/s of the same samples: a different seed draws different lengths
    (6812 tokens against eval's 6234 once, which alone moved the ratio by 9%)."""
    settings = BenchSettings(
        model=str(tiny_model_dir), limit=3, max_tokens=8, data_dir=BENCHMARKS_DIR
    )
    write_bare_inputs(settings, tmp_path / "inputs.json")
    rows = json.loads((tmp_path / "inputs.json").read_text())["rows"]
    config = EvalConfig(
        model=str(tiny_model_dir),
        benchmarks=[settings.benchmark],
        temperatures=[settings.temperature],
        max_tokens=settings.max_tokens,
        limit=settings.limit,
        data_dir=BENCHMARKS_DIR,
    )
    [run] = plan_runs(config, resolve_model(config.model))
    sent = [(request.prompt, request_seed(request)) for request in run.mode.start()]
    assert sent == [(row["prompt"], row["seed"]) for row in rows]
