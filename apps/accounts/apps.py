from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.accounts"

    def ready(self) -> None:
        # allauth loads the JWT key through a lazy proxy of `cryptography` that falls back to
        # the real package once any of it is imported (Fernet, for MFA secrets), and then
        # finds `serialization` missing: issuing a token raised AttributeError. Load it now.
        import cryptography.hazmat.primitives.serialization  # noqa: F401
        from django.db.models.signals import post_migrate

        from apps.accounts import openapi, signals, totp_guard  # noqa: F401 - openapi registers

        signals.connect()
        totp_guard.install()
        post_migrate.connect(_roles_after_migrate, dispatch_uid="accounts-roles")


def _roles_after_migrate(sender: AppConfig, **kwargs: object) -> None:
    from django.apps import apps

    # post_migrate comes once per app: act after the last one, when every permission exists.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender is with_models[-1]:
        from apps.accounts import services

        services.roles_ensure()
