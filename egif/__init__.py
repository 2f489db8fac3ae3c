"""egif: XML data standards of UK local e-government.

A versioned schema registry (embedded SQLite by default, PostgreSQL for a
registry shared by many maintainers), validation,
schema diff and lifecycle for GovTalk-style XML Schemas such as BS 7666
addresses, BS 8766 person details and e-GMS metadata.
"""

from egif.errors import (
    Conflict,
    DocumentInvalid,
    EgifError,
    InputError,
    LifecycleError,
    NotFound,
    PermissionDenied,
    ReadOnlyRegistry,
    RegistryError,
    SchemaCompileError,
    TamperedError,
    UnsafeInputError,
)
from egif.model import (
    Event,
    Finding,
    ImportBinding,
    SchemaFile,
    SchemaRef,
    SchemaVersion,
    Severity,
    Status,
)
from egif.registry import AddResult, Registry, default_registry_path
from egif.resolve import ResolvedSchema
from egif.validate import DocumentResult, Session, Validator

__version__ = "0.1.0"
"""The version of egif (as in pyproject.toml)."""

__all__ = [
    "AddResult",
    "Conflict",
    "DocumentInvalid",
    "DocumentResult",
    "EgifError",
    "Event",
    "Finding",
    "ImportBinding",
    "InputError",
    "LifecycleError",
    "NotFound",
    "PermissionDenied",
    "ReadOnlyRegistry",
    "Registry",
    "RegistryError",
    "ResolvedSchema",
    "SchemaCompileError",
    "SchemaFile",
    "SchemaRef",
    "SchemaVersion",
    "Session",
    "Severity",
    "Status",
    "TamperedError",
    "UnsafeInputError",
    "Validator",
    "__version__",
    "default_registry_path",
]
