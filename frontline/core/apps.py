from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "frontline.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        # Job failure and retry counters, and job ids in log lines, in every process.
        from frontline.core import metrics

        metrics.connect_celery_signals()
