"""Errors a user can act on.

Every problem caused by what someone uploaded or typed is raised as a ``UserError`` whose message is one plain
sentence saying what is wrong and what to do. The CLI prints it and exits 2; the app shows it in the page.
Anything else is a bug and is allowed to surface as one.
"""


class UserError(Exception):
    """A problem with the user's input, worded for the user: a `messages.Message`, so it can be shown in the user's
    language (``str(err)`` is the English)."""

    @property
    def message(self) -> str:
        return str(self)

    def text(self, language: str) -> str:
        from .messages import translate

        return translate(self.args[0], language) if self.args else ""


class PhotoError(UserError):
    """The photo cannot be read or used."""


class FaceError(PhotoError):
    """The photo was read, but it has no usable frontal face."""


class AudioError(UserError):
    """The song or audio file cannot be read or used."""


class SongError(UserError):
    """An unknown or malformed preset id."""


class EngineUnavailable(UserError):
    """The asked-for engine cannot run here (no GPU, no weights, missing packages)."""


class Cancelled(Exception):
    """The job was stopped before it finished (its user left); not an error to show anyone."""
