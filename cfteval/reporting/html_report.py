"""`cfteval report`: one self-contained HTML page to send a colleague.

Everything is inside the file (styles, a few lines of script, the plots as base64 PNG), so it
opens from an e-mail attachment without a server. Per run, the graded samples are listed with a
filter for wrong answers and grader time-outs, which is where a reader starts asking questions.
"""

from __future__ import annotations

import base64
import html
import re
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from cfteval import __version__
from cfteval.reporting.leaderboard import TableFormat, long_rows, pivot, render
from cfteval.reporting.plots import plot_benchmarks, plot_temperature
from cfteval.rundir import Run

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
table.samples td,table.samples th{text-align:left;max-width:420px;overflow-wrap:anywhere}
tr.wrong td.verdict{color:#b00}tr.right td.verdict{color:#070}
pre{white-space:pre-wrap;max-height:300px;overflow:auto;background:#fafafa;padding:6px}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
.note{color:#666;font-size:13px}
"""

# Shows only the rows of one run's table that match the chosen filter.
_SCRIPT = """
function filterSamples(select){
  const table=document.getElementById(select.dataset.table);
  for(const row of table.tBodies[0].rows){
    const show=select.value==='all'||(select.value==='wrong'&&row.dataset.correct==='0')||
      (select.value==='timeouts'&&row.dataset.timeout==='1');
    row.style.display=show?'':'none';
  }
}
// A link ending in #filter=wrong (or =timeouts) opens the page with every run filtered.
window.addEventListener('DOMContentLoaded',()=>{
  const wanted=(location.hash.match(/filter=(all|wrong|timeouts)/)||[])[1];
  if(!wanted)return;
  for(const select of document.querySelectorAll('select[data-table]')){
    select.value=wanted;filterSamples(select);
  }
});
"""


def _anchor(run: Run) -> str:
    return "run-" + re.sub(r"[^A-Za-z0-9]+", "-", run.run_id).strip("-")


def _runs_table(runs: Sequence[Run]) -> str:
    head = [
        "model",
        "benchmark",
        "mode",
        "T",
        "n",
        "problems",
        "accuracy",
        "± se",
        "time-outs",
        "profile",
        "samples",
    ]
    rows = []
    for run in runs:
        m = run.metrics
        cells = [
            run.model,
            run.benchmark,
            run.mode,
            f"{run.temperature:g}",
            str(m.get("samples_per_problem", "")),
            str(m.get("n_problems", "")),
            f"{m.get('accuracy', float('nan')):.1f}",
            f"{m.get('stderr', float('nan')):.1f}",
            str(m.get("timeouts", 0)),
            run.profile,
        ]
        link = f'<a href="#{_anchor(run)}">graded samples</a>'
        rows.append(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + f"<td>{link}</td></tr>"
        )
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (
        f'<table id="runs"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _samples_section(run: Run, max_samples: int) -> str:
    table_id = _anchor(run) + "-samples"
    rows = []
    for s in run.samples[:max_samples]:
        css = "right" if s.correct else "wrong"
        verdict = ("right" if s.correct else "wrong") + (" (time-out)" if s.timed_out else "")
        problem = s.problem_id if s.sample_index == 0 else f"{s.problem_id}#{s.sample_index}"
        rows.append(
            f'<tr class="{css}" data-correct="{int(s.correct)}" data-timeout="{int(s.timed_out)}">'
            f"<td>{html.escape(problem)}</td><td>{html.escape(s.gold)}</td>"
            f'<td>{html.escape(str(s.extracted))}</td><td class="verdict">{verdict}</td>'
            f"<td><details><summary>{len(s.generation)} characters, {s.tokens} tokens</summary>"
            f"<pre>{html.escape(s.generation)}</pre></details></td></tr>"
        )
    shown = min(len(run.samples), max_samples)
    wrong = sum(not s.correct for s in run.samples)
    timeouts = sum(s.timed_out for s in run.samples)
    cut = f" (first {shown} shown)" if shown < len(run.samples) else ""
    return (
        f'<section id="{_anchor(run)}"><h3>{html.escape(run.run_id)}</h3>'
        f'<p class="note">{len(run.samples)} samples{cut}: {wrong} wrong, {timeouts} grader time-outs. '
        f'Show <select data-table="{table_id}" onchange="filterSamples(this)">'
        '<option value="all">all</option><option value="wrong">wrong answers</option>'
        '<option value="timeouts">grader time-outs</option></select></p>'
        f'<table class="samples" id="{table_id}"><thead><tr><th>problem</th><th>gold</th>'
        "<th>extracted</th><th>verdict</th><th>generation</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _embedded_plots(runs: Sequence[Run]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        paths = plot_temperature(runs, Path(tmp)) + plot_benchmarks(runs, Path(tmp))
        images = []
        for path in paths:
            if path.suffix == ".png":
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                images.append(f'<img alt="{path.stem}" src="data:image/png;base64,{data}">')
    return "".join(images)


def build_report(runs: Sequence[Run], title: str, max_samples: int = 500) -> str:
    """The whole page as a string."""
    long = long_rows(runs)
    by_benchmark: dict[str, list[Run]] = {}
    for run in runs:
        by_benchmark.setdefault(run.benchmark, []).append(run)
    sections = "".join(
        f"<h2>{html.escape(benchmark)}</h2>"
        + "".join(_samples_section(r, max_samples) for r in members)
        for benchmark, members in by_benchmark.items()
    )
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="note">{len(runs)} runs; generated {generated} by cfteval {__version__}. '
        "Accuracy in percent; ± se is the standard error over problems.</p>"
        "<h2>Accuracy by benchmark</h2>"
        + render(pivot(long), TableFormat.html)
        + "<h2>Runs</h2>"
        + _runs_table(runs)
        + "<h2>Plots</h2>"
        + _embedded_plots(runs)
        + "<h2>Graded samples</h2>"
        + sections
        + "</body></html>\n"
    )
