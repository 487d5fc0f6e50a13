from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class FinstackConfig(AppConfig):
    """The composition root: project-wide commands such as seed_demo."""

    name = "finstack"
    default = True


class AdminConfig(admin_apps.AdminConfig):
    """The back office: every staff login needs a password and then a TOTP code."""

    default = False
    default_site = "finstack.admin_site.AdminSite"
