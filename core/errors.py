"""Errors a user can act on. Each carries the CLI exit code that reports it."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when empty), for one-line error reports."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class LoaError(Exception):
    """Base for every error the app reports to the user as one clear line."""

    exit_code = 1


class InputError(LoaError):
    """The user's input is wrong: a bad value, an unreadable file. Exit code 2."""

    exit_code = 2


class ModelNotAvailable(LoaError):
    """The requested model is not installed, or its folder is broken. Exit code 3."""

    exit_code = 3


class Cancelled(LoaError):
    """The caller cancelled a running job."""

    exit_code = 130
