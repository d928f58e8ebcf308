"""Bilingual, field-named validation problems shared by services, the API and the CLI.

Every rule a user can break is reported as a `Problem`: where (a dotted path to the field), which rule,
and the message in Chinese and English. Services raise `InvalidInput` with one or more problems and
write nothing; the API turns it into a 422 with the list; the CLI prints one line per problem.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    field: str
    rule: str
    zh: str
    en: str
    file: str = ""

    def line(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.field}: [{self.rule}] {self.zh} / {self.en}"

    def as_dict(self) -> dict:
        data = asdict(self)
        if not self.file:
            data.pop("file")
        data["message"] = f"{self.zh} / {self.en}"
        return data


class InvalidInput(Exception):
    """Raised by services when input breaks a rule; nothing has been written."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(p.line() for p in self.problems))


class NotFound(Exception):
    """The object does not exist or the user may not see it (never says which)."""


class Conflict(Exception):
    """The request is valid but the object's state does not allow it (e.g. already decided)."""

    def __init__(self, zh: str, en: str, rule: str = "state"):
        self.problem = Problem(field="state", rule=rule, zh=zh, en=en)
        super().__init__(self.problem.line())


class Forbidden(Exception):
    """The user may see the object but not do this to it (answered 403 with the problem). Someone who
    may not see the object gets `NotFound` instead, so a 403 never reveals that something exists."""

    def __init__(self, zh: str, en: str, rule: str = "access.action"):
        self.problem = Problem(field="actor", rule=rule, zh=zh, en=en)
        super().__init__(self.problem.line())


def problem(field: str, rule: str, zh: str, en: str) -> Problem:
    return Problem(field=field, rule=rule, zh=zh, en=en)


class Busy(Conflict):
    """The database chose this request as the loser of a lock conflict twice in a row (a deadlock or a
    serialization failure, retried once at the service boundary). Nothing was written; retrying later
    is safe. The API answers 503 with Retry-After; pages that show a Conflict show this message too."""

    status = 503

    def __init__(self):
        super().__init__("系统繁忙，本次操作未生效，请稍后重试", "the system is busy; nothing was changed, please retry",
                         rule="busy.retry")
