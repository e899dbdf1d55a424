"""Errors that end a command with exit code 2 and one line naming the file and the problem."""

from __future__ import annotations


class InputError(Exception):
    """Bad input or configuration: the user must fix something before postguard can run.

    The message is shown to the user as a single line, so it must name the file and the problem.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
