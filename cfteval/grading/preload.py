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
