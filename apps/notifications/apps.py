from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.notifications"

    def ready(self) -> None:
        from apps.accounts import services as accounts_services
        from apps.notifications import (
            handlers,  # noqa: F401 - registers the event rules
            services,
            tasks,  # noqa: F401 - services queue them by name
        )

        # allauth's mails (codes, notices) leave through our e-mail channel and templates.
        accounts_services.mail_sender_register(services.account_mail)
        accounts_services.sms_sender_register(services.account_sms)
