from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "frontline.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        try:
            from frontline.core.metrics import register_gauge
        except ImportError:  # metrics are optional (prometheus_client not installed)
            return
        register_gauge(
            "frontline_jobs_open",
            "Unfinished jobs in the job outbox: pending (not yet published) and sent.",
            _open_jobs,
            labels=("status",),
        )


def _open_jobs() -> dict[str, int]:
    from frontline.jobs.services import open_counts

    return open_counts()
