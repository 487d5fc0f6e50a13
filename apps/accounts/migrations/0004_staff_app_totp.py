"""Staff enrolled before the app login asked them for TOTP get the same secret as their admin
authenticator (allauth.mfa), so their existing authenticator app entry works in both places
and the staff API's second-factor check does not lock them out."""

import base64
import binascii

from django.db import migrations


def copy_admin_totp_to_app(apps, schema_editor):
    from allauth.mfa.utils import encrypt  # the project's adapter: Fernet, as at runtime

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    Authenticator = apps.get_model("mfa", "Authenticator")
    has_app_totp = Authenticator.objects.filter(type="totp").values("user_id")
    devices = (
        TOTPDevice.objects.filter(confirmed=True, user__is_staff=True)
        .exclude(user_id__in=has_app_totp)
        .order_by("user_id", "pk")
    )
    done = set()
    for device in devices:
        if device.user_id in done:
            continue
        secret = base64.b32encode(binascii.unhexlify(device.key)).decode()
        Authenticator.objects.create(
            user_id=device.user_id, type="totp", data={"secret": encrypt(secret)}
        )
        done.add(device.user_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_staff_log_append_only"),
        ("mfa", "0003_authenticator_type_uniq"),
        ("otp_totp", "0003_add_timestamps"),
    ]
    operations = [migrations.RunPython(copy_admin_totp_to_app, migrations.RunPython.noop)]
