from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "frontline.incentives"
    label = "incentives"
    verbose_name = _("Incentives")
    default_auto_field = "django.db.models.BigAutoField"
