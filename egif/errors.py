"""The exceptions egif raises.

Every error derives from :class:`EgifError`; each subclass also derives from the
standard exception that fits, so callers that only know the stdlib still catch
it (``except KeyError`` catches :class:`NotFound`).  Each class carries the
process exit code the command-line tool uses for it.
"""

from __future__ import annotations

from pathlib import Path


class EgifError(Exception):
    """Root of every error egif raises on purpose."""

    exit_code: int = 2

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line or None
        self.column = column or None
        super().__init__(self.__str__())

    @property
    def where(self) -> str:
        """``file:line:col`` (as much of it as is known), or ``""``."""
        parts = [self.file or ""]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        where = ":".join(parts)
        if not self.file and self.line is not None:
            where = "line " + where[1:]
        return where

    def __str__(self) -> str:
        where = self.where
        return f"{where}: {self.message}" if where else self.message


class InputError(EgifError, ValueError):
    """Input that egif cannot accept: missing file, not XML, not a schema..."""


class UnsafeInputError(InputError):
    """XML that uses features refused for safety (entities, DTDs, XInclude, limits)."""


class SchemaCompileError(InputError):
    """A schema that does not compile (unknown type, missing include, ...)."""


class NotFound(EgifError, KeyError):
    """A schema, version or other registry object that does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return EgifError.__str__(self)


class Conflict(EgifError):
    """An operation that contradicts what the registry already holds."""


class RegistryError(EgifError):
    """The registry file is unusable: not a registry, newer format, corrupt."""


class ReadOnlyRegistry(RegistryError, PermissionError):
    """A write to a registry opened read-only (a file the user cannot write, a read-only role)."""


class TamperedError(RegistryError):
    """Stored content no longer matches its recorded digest."""


class LifecycleError(EgifError):
    """A lifecycle transition or action that the rules refuse."""

    exit_code = 1


class PermissionDenied(LifecycleError, PermissionError):
    """The acting identity may not perform this action."""


class DocumentInvalid(EgifError):
    """Raised by ``validate()`` when a document does not conform."""

    exit_code = 1
