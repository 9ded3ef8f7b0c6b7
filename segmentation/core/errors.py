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


class MissingColumnsError(ColumnError):
    """Columns that were named are not in the dataset or file.

    Parameters
    ----------
    missing : list of str
        The columns asked for and not found.
    found : list of str
        The columns there are.
    where : str, optional
        What was searched ("dataset 'crm'"), for the message.
    """

    def __init__(self, missing, found, where: str = "", hint: str = ""):
        self.missing, self.found = list(missing), list(found)
        place = f" in {where}" if where else ""
        super().__init__(f"Missing columns {self.missing}{place}; found {self.found}" + (f". {hint}" if hint else ""))


class SettingError(SegmentStudioError):
    """A setting, option or argument has a value the engine cannot use.

    Parameters
    ----------
    setting : str
        The setting's name, as the user gave it (``"k"``, ``"scaling"``, ``"channel"``).
    value : object
        What came in.
    expected : str
        What would have been accepted, in words.
    message : str, optional
        The whole message, where "<setting> must be <expected>; got <value>" reads badly.
    """

    def __init__(self, setting: str, value, expected: str, message: str | None = None):
        self.setting, self.value, self.expected = setting, value, expected
        super().__init__(message or f"{setting} must be {expected}; got {value!r}.")


class DataError(SegmentStudioError):
    """The data cannot support what was asked (too few customers, no values, one class only)."""


class NotFoundError(SegmentStudioError):
    """A dataset, run or audience that was named does not exist."""


class DatasetNotFoundError(NotFoundError):
    """No dataset of that name (or of that kind) is in the store.

    Parameters
    ----------
    name : str or None
        The name asked for (None: the newest of ``kind`` was asked for).
    available : list of str
        The datasets the store has.
    kind : str
        The kind asked for.
    """

    def __init__(self, name: str | None, available, kind: str = "customers"):
        self.name, self.available, self.kind = name, list(available), kind
        if name is None:
            message = f"No {kind} dataset in the store yet: import a file first."
        else:
            message = f"No dataset named {name!r}; the store has {self.available}."
        super().__init__(message)


class MatchingError(SegmentStudioError):
    """Finding duplicates failed unexpectedly; the store is unchanged (nothing of the run was written)."""

    def __init__(self, dataset: str, step: str, roles: dict[str, str], cause: Exception):
        compared = ", ".join(f"{c!r} ({r})" for c, r in roles.items()) or "none"
        super().__init__(
            f"Finding duplicates in dataset {dataset!r} failed while {step}: {type(cause).__name__}: {cause}. "
            f"Columns compared: {compared}. Nothing was changed in the store. Check the column roles "
            "(page Import) or compare fewer columns (--match-columns), and report this message if it persists.")
        self.dataset, self.step, self.cause = dataset, step, cause


class StoreError(SegmentStudioError):
    """The working store cannot be opened or is in an unexpected state."""


def check_choices(choices: dict[str, str], columns: list[str], allowed, noun: str) -> None:
    """Raise :class:`ColumnError` unless every key is a column and every value one of ``allowed``.

    Used for column roles and survivorship rules, which pages, the CLI and tests all pass as dicts.
    """
    unknown = [c for c in choices if c not in columns]
    if unknown:
        raise MissingColumnsError(unknown, columns)
    bad = {c: v for c, v in choices.items() if v not in allowed}
    if bad:
        raise SettingError(noun, bad, f"one of {list(allowed)}")


class ConfigError(SettingError):
    """A pipeline config file cannot be read, or says something the store cannot do.

    Parameters
    ----------
    message : str
        What is wrong and where, in words.
    """

    def __init__(self, message: str):
        SegmentStudioError.__init__(self, message)
        self.setting, self.value, self.expected = None, None, message


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
