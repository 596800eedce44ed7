"""Imported by each grading worker at start-up, so that no item's time limit pays for imports.

Each import is guarded: a module that fails to import (missing optional dependency, a bug being
fixed) must not take the worker down; the grader then reports the error per item.
"""

import importlib
import logging

for _name in (
    "sympy",
    "latex2sympy2_extended",
    "cfteval.grading.profiles",
    "cfteval.grading.extract",
    "cfteval.grading.equivalence",
    "cfteval.grading.qwen",
):
    try:
        importlib.import_module(_name)
    except Exception:  # noqa: BLE001 - see module docstring
        logging.getLogger(__name__).debug("preload of %s failed", _name, exc_info=True)

# The LaTeX parser builds its prediction tables lazily, per construct: the first relation or
# equation it ever sees can cost a second (several on a loaded machine), which would be charged to
# whichever item comes first. Parsing one of each kind here moves that cost to start-up.
_WARM_UP = (
    ("x^2 + 1", "1 + x^2"),
    ("x \\ge 3", "3 \\le x"),
    ("3 > 2", "e > 2"),
    ("\\frac{\\sqrt{3}}{2}", "\\sin(\\pi/3)"),
    ("y = 2x + 1", "2x - y + 1 = 0"),
)
try:
    from cfteval.grading.equivalence import is_equivalent as _is_equivalent

    for _pred, _gold in _WARM_UP:
        _is_equivalent(_pred, _gold, "math")
except Exception:  # noqa: BLE001 - see module docstring
    logging.getLogger(__name__).debug("parser warm-up failed", exc_info=True)
