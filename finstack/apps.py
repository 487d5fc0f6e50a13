from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class FinstackConfig(AppConfig):
    """The composition root: project-wide commands such as seed_demo."""

    name = "finstack"
    default = True

    def ready(self) -> None:
        import sys

        from celery.signals import task_failure, worker_process_init

        from finstack import metrics, tracing

        task_failure.connect(metrics.count_task_failure, weak=False)

        # Web processes trace from start-up (before the middleware is loaded); Celery's
        # prefork children set it up after the fork, where the exporter's thread lives.
        if "celery" in sys.argv[0] or (len(sys.argv) > 1 and sys.argv[1] == "worker"):
            worker_process_init.connect(lambda **_: tracing.configure(), weak=False)
        else:
            tracing.configure()


class AdminConfig(admin_apps.AdminConfig):
    """The back office: every staff login needs a password and then a TOTP code."""

    default = False
    default_site = "finstack.admin_site.AdminSite"
