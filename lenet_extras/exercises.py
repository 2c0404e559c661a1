"""Checking the exercises at the end of every notebook (01 to 06).

The questions and hints are data, in exercises.toml; each right answer is computed by
PyTorch in the named function of answers.py. ``check`` prints a verdict: the first wrong
try gets a hint to the idea, the next ones a hint to the arithmetic as well.
"""

from __future__ import annotations

import math
import numbers
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from lenet_extras import answers

EXERCISES: dict[str, dict[str, Any]] = tomllib.loads(
    (Path(__file__).with_name("exercises.toml")).read_text(encoding="utf-8")
)
_wrong_tries: dict[str, int] = {}


@dataclass(frozen=True)
class Verdict:
    """What :func:`grade` says about an answer."""

    status: Literal["correct", "wrong", "unanswered"]
    message: str

    def __str__(self) -> str:
        return self.message


def check(exercise: str, answer: Any) -> None:
    """Print whether an answer is right, with a hint when it is not."""
    verdict = grade(exercise, answer, tries=_wrong_tries.get(exercise, 0))
    if verdict.status == "wrong":
        _wrong_tries[exercise] = _wrong_tries.get(exercise, 0) + 1
    elif verdict.status == "correct":
        _wrong_tries.pop(exercise, None)
    print(verdict)


def grade(exercise: str, answer: Any, *, tries: int = 0) -> Verdict:
    """Compare an answer with the truth computed by PyTorch; never raises for an answer.

    ``tries`` is the number of wrong answers given before: from the second on, both hints.
    """
    if exercise not in EXERCISES:
        raise KeyError(f"no exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}")
    task = EXERCISES[exercise]
    if answer is None or answer is ... or (isinstance(answer, str) and not answer.strip()):
        return Verdict("unanswered", f"{exercise}: not answered yet. {task['question']}")
    truth_of = getattr(answers, "e" + exercise.replace(".", "_"))
    hints = ". Then: ".join(task["hints"][: 1 if tries == 0 else 2])
    if task["kind"] == "code":
        try:
            problem = truth_of(answer)
        except Exception as exc:  # an answer that breaks the checking itself is still wrong
            problem = f"checking it raised {type(exc).__name__}: {exc}"
        if problem is None:
            return Verdict("correct", f"{exercise}: correct.")
        return Verdict("wrong", f"{exercise}: not yet: {problem}. Hint: {hints}.")
    truth = truth_of()
    try:
        right = _matches(answer, truth, task["kind"])
    except Exception:  # an odd object that cannot even be compared is not the answer
        right = False
    if right:
        return Verdict("correct", f"{exercise}: correct, {_as_text(truth)}.")
    return Verdict("wrong", f"{exercise}: not quite ({_as_text(answer)}). Hint: {hints}.")


def _matches(answer: Any, truth: Any, kind: str) -> bool:
    """Whether the answer, in any reasonable form of its kind, equals the truth."""
    if kind == "name":
        if isinstance(answer, type):
            return answer is truth
        return isinstance(answer, str) and answer.strip() in _names(truth)
    if kind == "bool":
        return _as_bool(answer) is truth
    if kind == "shape":
        shape = _as_shape(answer)
        return shape is not None and shape == tuple(truth)
    number = _as_number(answer)
    return number is not None and math.isclose(number, truth, rel_tol=1e-9, abs_tol=1e-9)


def _names(value: Any) -> set[str]:
    """A class's own name and its qualified name; a string as it is."""
    if isinstance(value, type):
        return {value.__name__, f"{value.__module__}.{value.__qualname__}"}
    return {value.strip()} if isinstance(value, str) else set()


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, str):
        return {"True": True, "False": False}.get(value.strip())
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool and value.numel() == 1:
        value = value.item()
    return bool(value) if isinstance(value, bool | np.bool_) else None


def _as_shape(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, torch.Tensor | np.ndarray):
        value = value.tolist()
    if not isinstance(value, tuple | list | torch.Size):
        return None
    sides = [_as_number(v) for v in value]
    if any(n is None or not n.is_integer() for n in sides):
        return None
    return tuple(int(n) for n in sides)


def _as_number(value: Any) -> float | None:
    try:
        return _number_or_none(value)
    except Exception:  # an odd object (a meta tensor, a broken __float__): not a number
        return None


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else None
    elif isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else None
    if isinstance(value, str):
        try:
            value = float(value.replace(",", "").replace("_", ""))
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _as_text(value: Any) -> str:
    try:
        return _text(value)
    except Exception:  # an object whose repr fails
        return f"an object of type {type(value).__name__}"


def _text(value: Any) -> str:
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple | torch.Size):
        return str(tuple(value))
    return repr(value) if isinstance(value, str) else str(value)
