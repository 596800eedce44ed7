"""The summary table `cfteval cft-data` prints: what each stage made and how far the teacher
agreed with the grader (read from the manifest, so it can be printed again from a folder)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"


def cft_data_table(manifest: dict[str, Any]) -> Table:
    counts, teacher = manifest["counts"], manifest["teacher_agreement"]
    table = Table(title="CFT data", show_header=True)
    table.add_column("stage")
    table.add_column("count", justify="right")
    table.add_column("of which", justify="left")
    table.add_row("questions", str(counts["questions"]), "")
    table.add_row(
        "distinct solutions",
        str(counts["solutions"]),
        f"{counts['solutions_right']} right, {counts['solutions_wrong']} wrong (grader); "
        f"{counts['solutions_cut_off']} cut off at max tokens",
    )
    if counts["not_critiqued_for_balance"]:
        table.add_row("not critiqued (--wrong-ratio)", str(counts["not_critiqued_for_balance"]), "")
    table.add_row(
        "critiques",
        str(counts["critiqued"]),
        f"{teacher['agree']} agree, {teacher['contradict']} contradict, "
        f"{teacher['unparseable']} without a readable conclusion",
    )
    table.add_row(
        "teacher vs grader",
        _percent(teacher["agreement"]),
        f"agreement ({_percent(teacher['agreement_of_parseable'])} of readable conclusions); "
        f"on wrong solutions: precision {_percent(teacher['precision_on_wrong'])}, "
        f"recall {_percent(teacher['recall_on_wrong'])}",
    )
    dropped = (
        f"dropped: {counts['dropped_contradict']} contradicting, "
        f"{counts['dropped_unparseable']} unreadable, {counts['dropped_for_balance']} for balance"
    )
    table.add_row("rows kept", str(counts["kept"]), dropped)
    table.add_row(
        "critiques of wrong solutions", _percent(counts["kept_wrong_share"]), "of rows kept"
    )
    return table
