from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "frontline.inspections"
    label = "inspections"
    verbose_name = _("Inspections")
    default_auto_field = "django.db.models.BigAutoField"
