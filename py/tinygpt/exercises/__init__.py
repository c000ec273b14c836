"""Build it yourself: exercises in which the learner writes the GPT's pieces, checked
against the package's own, and a GPT trained with the pieces they wrote.

- `check(exercise, code)`: their code against the package's on fixed and random cases;
  always an answer with a message (the first case that differs, a typical mistake's hint).
- `solution(exercise)`: the package's way, the text "Show a solution" puts in the editor.
- `case(exercise, seed)`: the inputs of a check's random case, as its message names it.
- `TrainJob(codes, text, steps)`: "Train with my code", in small pieces of work.

The lessons page calls them through tinygpt.lessons, in its cells' Python worker.
"""

from .checker import EXERCISES, case, check, solution
from .train import SETTINGS, STEP_CHOICES, TrainJob

__all__ = ["EXERCISES", "SETTINGS", "STEP_CHOICES", "TrainJob", "case", "check", "solution"]
