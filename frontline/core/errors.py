"""Domain errors: each has a stable ``code`` and a translatable message.

Services raise these; the API maps them to HTTP statuses with a
``{"code", "detail", "fields"}`` body and pages show the same message in the form.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message = _("The request is not valid.")

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.fields = {
            k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])]
            for k, v in (fields or {}).items()
        }
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"
    default_message = _("Some fields are not valid.")


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("This was changed by someone else; reload and try again.")


def from_django_validation(exc) -> ValidationFailed:
    """Turn a django.core.exceptions.ValidationError into a ValidationFailed."""
    if hasattr(exc, "error_dict"):
        fields = {
            name: [str(m) for e in errs for m in e.messages]
            for name, errs in exc.error_dict.items()
        }
        non_field = fields.pop("__all__", None)
        message = non_field[0] if non_field else ValidationFailed.default_message
        if non_field:
            fields["non_field_errors"] = non_field
        return ValidationFailed(message, fields=fields)
    return ValidationFailed(
        exc.messages[0] if exc.messages else None, fields={"non_field_errors": exc.messages}
    )
