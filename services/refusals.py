"""What both faces show as a refusal (a clear line that says what is wrong) rather than as a
bug: the CLI prints it and exits 2, the web shows it on the page with a 4xx status."""

from __future__ import annotations

from domain.errors import DomainError
from ledger.blobs import BlobError
from ledger.keys import LedgerKeyError
from ledger.ledger import LedgerError
from ledger.settings import SettingsError
from ledger.vault import VaultError
from services.credentials import CredentialError
from services.errors import ServiceRefused
from services.sessions import SessionError
from services.signin import SignInRefused
from services.strict_files import FileInvalid
from workers.models import IntakeRefused

REFUSALS: tuple[type[BaseException], ...] = (
    DomainError,
    ServiceRefused,
    IntakeRefused,
    FileInvalid,
    SettingsError,
    BlobError,
    VaultError,
    SessionError,
    SignInRefused,
    CredentialError,
    LedgerKeyError,
    LedgerError,
)
