"""The one error type that means "could not audit": exit code 2, one clear line."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: names the file, where in it (key path and/or line) and what was expected."""

    def __init__(self, file: str, problem: str, where: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.where = where
        self.line = line
        self.problem = problem
        super().__init__(self.__str__())

    def problem_text(self) -> str:
        """What is wrong and where inside the file (line, key), without the file's name."""
        loc = f"line {self.line}" if self.line is not None else ""
        if self.where:
            loc += (": " if loc else "") + self.where
        return f"{loc}: {self.problem}" if loc else self.problem

    def __str__(self) -> str:
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
        if self.where:
            loc += f": {self.where}"
        return f"{loc}: {self.problem}"


def duplicate_key(file: str, key: str, first_line: int | None, line: int | None, where: str | None = None,
                  what: str = "key") -> InputError:
    """A key given twice in one mapping, section or block: which value was meant cannot be known,
    and keeping either silently could weaken a rule (a minimum length of 6, then 14)."""
    first = f" (first on line {first_line})" if first_line is not None else ""
    return InputError(file, f"duplicate {what} {key!r}{first}: give it once", where=where, line=line)
