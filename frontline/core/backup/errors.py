"""The one error type of backup and restore: a stable ``code`` and a message for the operator."""

from __future__ import annotations


class BackupError(Exception):
    """Backup or restore cannot go on; the message says why and what to do.

    Codes: ``exists``, ``invalid_path``, ``not_found``, ``in_transaction``,
    ``connect_failed``, ``client_missing``, ``client_too_old``, ``dump_failed``, ``corrupt``,
    ``unsafe_member``, ``format``, ``vendor_mismatch``, ``not_empty``, ``restore_failed``,
    ``verify_failed``. The console commands turn it into a non-zero exit status with the
    message on stderr. Messages are English, like the other console commands' output
    (cron mail, logs).
    """

    def __init__(self, message: str, *, code: str):
        self.code = code
        self.message = message
        super().__init__(message)
