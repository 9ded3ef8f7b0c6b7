"""Segment Studio's own exceptions.

Every message says what was expected and what came in, in words a marketer
can act on. Pages show them with ``st.error``; the CLI prints ``error: ...``
and exits with status 2.
"""


class SegmentStudioError(Exception):
    """Base class of every error the user is meant to read."""


class InputFileError(SegmentStudioError):
    """An uploaded or named file cannot be read as a table."""


class ColumnError(SegmentStudioError):
    """A column that was asked for does not exist, or has the wrong role."""


class NotFoundError(SegmentStudioError):
    """A dataset, run or audience that was named does not exist."""


class StoreError(SegmentStudioError):
    """The working store cannot be opened or is in an unexpected state."""


def check_choices(choices: dict[str, str], columns: list[str], allowed, noun: str) -> None:
    """Raise :class:`ColumnError` unless every key is a column and every value one of ``allowed``.

    Used for column roles and survivorship rules, which pages, the CLI and tests all pass as dicts.
    """
    unknown = [c for c in choices if c not in columns]
    if unknown:
        raise ColumnError(f"Missing columns {unknown}; found {columns}")
    bad = {c: v for c, v in choices.items() if v not in allowed}
    if bad:
        raise ColumnError(f"Unknown {noun} {bad}; {noun} are {list(allowed)}")


class ConfigError(SegmentStudioError):
    """A pipeline config file cannot be read, or says something the store cannot do."""


class RefreshError(SegmentStudioError):
    """A step of an unattended refresh failed; the store is as it was before that step.

    Parameters
    ----------
    step : str
        The step's label, e.g. ``"import customers"``.
    message : str
        What went wrong, in the words of the error that stopped the step.
    """

    def __init__(self, step: str, message: str):
        self.step = step
        super().__init__(f"step {step!r} failed: {message} The store is as it was before this step "
                         "(earlier steps of this refresh were kept).")
