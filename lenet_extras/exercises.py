"""Checking the exercises at the end of every notebook (01 to 07).

The questions and hints are data, in exercises.toml; each right answer is computed by
PyTorch in the named function of answers.py. ``check`` prints a verdict: the first wrong
try gets a hint to the idea, the next ones a hint to the arithmetic as well. An answer
written as text is read as the number, shape, True/False or name it spells ("24", "(7, 10)",
"7 x 10", "true", "net.FC1"); one that cannot be read as the kind of answer asked for is told
how to write it, and that costs no try.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from lenet_extras import answers
from lenet_extras.code_checks import Form

EXERCISES: dict[str, dict[str, Any]] = tomllib.loads(
    (Path(__file__).with_name("exercises.toml")).read_text(encoding="utf-8")
)
_wrong_tries: dict[str, int] = {}


@dataclass(frozen=True)
class Verdict:
    """What :func:`grade` says about an answer."""

    status: Literal["correct", "wrong", "unreadable", "unanswered"]
    message: str

    def __str__(self) -> str:
        return self.message


def check(exercise: str, answer: Any) -> None:
    """Print whether an answer is right, with a hint when it is not (a wrong answer counts as
    a try; an unreadable one does not)."""
    verdict = grade(exercise, answer, tries=_wrong_tries.get(exercise, 0))
    if verdict.status == "wrong":
        _wrong_tries[exercise] = _wrong_tries.get(exercise, 0) + 1
    elif verdict.status == "correct":
        _wrong_tries.pop(exercise, None)
    print(verdict)


def grade(exercise: str, answer: Any, *, tries: int = 0) -> Verdict:
    """Compare an answer with the truth computed by PyTorch; never raises for an answer.

    ``tries`` is the number of wrong answers given before: from the second on, both hints.
    Grading leaves torch's random state as it was.
    """
    if not isinstance(exercise, str):
        raise TypeError(f"exercise must be its number as text, such as '02.4', got {exercise!r}")
    if exercise not in EXERCISES:
        raise KeyError(f"no exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}")
    with torch.random.fork_rng(devices=[]):
        return _grade(exercise, answer, tries)


def _grade(exercise: str, answer: Any, tries: int) -> Verdict:
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
        if isinstance(problem, Form):
            return Verdict("unreadable", f"{exercise}: {problem}. {NO_TRY}")
        return Verdict("wrong", f"{exercise}: not yet: {problem}. Hint: {hints}.")
    truth, kind = truth_of(), task["kind"]
    try:
        value = _read(answer, kind)
    except Exception:  # an odd object that cannot even be read
        value = None
    if value is None:
        what, how = READABLE[kind]
        shown = _as_text(answer)
        return Verdict("unreadable", f"{exercise}: {shown} is not {what}: {how}. {NO_TRY}")
    if _matches(value, truth, kind) or any(_matches(value, w, kind) for w in task.get("also", ())):
        return Verdict("correct", f"{exercise}: correct, {_as_text(truth)}.")
    mind = ""  # a class's name in the wrong case (torch.tensor, a function, is not torch.Tensor)
    folded = {_plain(n, True) for n in _names(truth)} if isinstance(truth, type) else set()
    if isinstance(value, str) and _plain(value, True) in folded:
        mind = " Mind the case: Python's names are case-sensitive."
    return Verdict("wrong", f"{exercise}: not quite ({_as_text(answer)}).{mind} Hint: {hints}.")


NO_TRY = "This does not count as a try."
READABLE = {  # kind: (what an answer must be, how to write one)
    "number": ("a number", "write one, such as 12, 61,706 or 0.5 (a point for decimals)"),
    "shape": ("a shape", "write it as a tuple of whole numbers, such as (2, 3)"),
    "bool": ("True or False", "write True or False"),
    "name": ("a name", "write it as text in quotes, such as 'conv1'"),
}


def _read(answer: Any, kind: str) -> Any:
    """The answer as a value of its kind (a float, a tuple of ints, a bool, a name or a class),
    or None when it cannot be read as one."""
    if kind == "name":
        if isinstance(answer, str):
            return answer.strip()
        return answer if isinstance(answer, type) or inspect.isroutine(answer) else None
    if kind == "bool":
        return _as_bool(answer)
    if kind == "shape":
        return _as_shape(answer)
    return _as_number(answer)


def _matches(value: Any, truth: Any, kind: str) -> bool:
    """Whether a value read from an answer equals the truth."""
    if kind == "name":
        if isinstance(value, type):
            return value is truth
        fold = not isinstance(truth, type)  # torch.tensor, a function, is not torch.Tensor
        plain = {_plain(n, fold) for n in _names(truth)}
        return isinstance(value, str) and _plain(value, fold) in plain
    if kind == "bool":
        return value is truth
    if kind == "shape":
        return value == tuple(truth)
    return math.isclose(value, truth, rel_tol=1e-9, abs_tol=1e-9)


def _names(value: Any) -> set[str]:
    """A class's own name and its qualified name; a string as it is."""
    if isinstance(value, type):
        return {value.__name__, f"{value.__module__}.{value.__qualname__}"}
    return {value.strip()} if isinstance(value, str) else set()


def _plain(name: str, fold: bool) -> str:
    """A name as it is meant: "<class 'torch.Tensor'>", "the Smallest", "(fc1):", "net.fc1",
    "fc1 layer" read as torch.Tensor, smallest, fc1, fc1, fc1 (in lower case if ``fold``: not
    a class's). An answer of more words, such as "fc1 or fc2", stays as it is: not a name."""
    name = re.sub(r"^<class '(.*)'>$", r"\1", name.strip()).strip(" ()[]:,.;!?'\"`")
    name = re.sub(r"^(the|a|an)\s+", "", name.lower() if fold else name, flags=re.I)
    name = re.sub(
        r"\s+(layer|class|distance|one|unit|centre|center|value|score)$", "", name, flags=re.I
    )
    return re.sub(r"^(net|self|model)\.", "", name)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool and value.numel() == 1:
        value = value.item()
    return bool(value) if isinstance(value, bool | np.bool_) else None


def _as_shape(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, str):
        value = _shape_in_text(value)
    if isinstance(value, torch.Tensor | np.ndarray):
        value = value.tolist()
    if not isinstance(value, tuple | list | torch.Size):
        return None
    sides = [_as_number(v) for v in value]
    if not sides or any(n is None or not n.is_integer() for n in sides):
        return None
    return tuple(int(n) for n in sides)


def _shape_in_text(text: str) -> list[str] | None:
    """'(7, 10)', '[7, 10]', 'torch.Size([7, 10])', '7 x 10', '7×10': the sides, as text."""
    inner = re.sub(r"^\s*(torch\.)?Size\(|\)\s*$", "", text.strip()) if "Size" in text else text
    inner = inner.strip().strip("()[]").strip()
    sides = [s for s in re.split(r"\s*(?:,|[xX×*]|\bby\b)\s*|\s+", inner) if s]
    return sides if sides and all(re.fullmatch(r"\d+", s) for s in sides) else None


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
        text = value.strip()  # thousands grouped by 3, as in "61,706": "2,4" is not a number
        if re.fullmatch(r"[-+]?[1-9]\d{0,2}([,_ ]\d{3})+(\.\d*)?", text):
            text = re.sub(r"[,_ ]", "", text)
        if re.search(r"[,_ ]", text):
            return None
        try:
            value = float(text)
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
    if inspect.isroutine(value):
        return f"the function {value.__name__}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple | torch.Size):
        return str(tuple(value))
    return repr(value) if isinstance(value, str) else str(value)
