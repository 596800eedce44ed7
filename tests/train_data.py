"""Small CFT and SFT data sets for the training tests, written in WebInstruct-CFT's form."""

from __future__ import annotations

import json
from pathlib import Path

INSTRUCTION = "Please critique whether the following solution to the question is correct.\n\n"


def cft_rows(n: int) -> list[dict[str, str]]:
    """Arithmetic questions with right or wrong solutions and a short critique of each."""
    rows = []
    for i in range(n):
        a, b = i + 2, (i * 7) % 13 + 1
        right = i % 2 == 0
        claimed = a + b if right else a + b + 1
        verdict = "right" if right else "wrong"
        rows.append(
            {
                "instruction": INSTRUCTION,
                "input": f"Question:\nWhat is ${a} + {b}$?\n\nSolution:\nWe add: ${a} + {b} = {claimed}$.\n",
                "output": f"The sum ${a} + {b}$ is ${a + b}$, so the solution is {verdict}. "
                f"Conclusion: {verdict} [END]",
            }
        )
    return rows


def sft_rows(n: int) -> list[dict[str, str]]:
    """Question → solution rows for the SFT baseline."""
    return [
        {
            "question": f"What is ${i} + {i + 3}$?",
            "solution": f"The answer is \\boxed{{{2 * i + 3}}}.",
        }
        for i in range(1, n + 1)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
