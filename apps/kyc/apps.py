from django.apps import AppConfig


class KycConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.kyc"

    def ready(self) -> None:
        from apps.accounts import selectors as accounts_selectors
        from apps.kyc import (
            selectors,
            tasks,  # noqa: F401 - the simulated vendor queues by name
        )

        # GET /api/v1/me shows the tier; accounts does not import kyc.
        accounts_selectors.profile_extra_register(
            lambda user_id: {"kyc_tier": selectors.tier_of(user_id=user_id)}
        )
