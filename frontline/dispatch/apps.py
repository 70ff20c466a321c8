from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "frontline.dispatch"
    label = "dispatch"
    verbose_name = _("Dispatch planning")
    default_auto_field = "django.db.models.BigAutoField"
