"""How allauth fits Finstack: new users announce themselves, e-mails leave after commit, TOTP
secrets are encrypted, and a lockout says when to retry."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.internal import ratelimit
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.functional import cached_property

from apps.accounts import services
from apps.accounts.events import UserCreated
from apps.accounts.models import User
from apps.core.events import publish


def _announce(user: Any) -> None:
    publish(UserCreated(user_id=user.pk, email=user.email, default_currency=user.default_currency))


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: Any, user: Any, form: Any, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                _announce(user)
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Rendered now, sent once the request's transaction commits: no network call inside
        it, and no code mailed for a change that rolled back."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        message = self.render_mail(template_prefix, email, {**ctx, **context})
        sender = services.mail_sender()
        if sender is None:
            transaction.on_commit(message.send, robust=True)
            return
        html = next(
            (c for c, kind in getattr(message, "alternatives", []) if kind == "text/html"), ""
        )
        values = {k: v for k, v in context.items() if isinstance(v, str | int)}
        sender(
            template=template_prefix,
            email=email,
            context=values,
            fallback=(message.subject, message.body, html),
        )

    # Phone numbers (allauth's phone support): optional, verified by an SMS code.
    def get_phone(self, user: Any) -> tuple[str, bool] | None:
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone(self, user: Any, phone: str, verified: bool) -> None:
        services.user_phone_set(user_id=user.pk, phone=phone, verified=verified)
        user.phone, user.phone_verified = phone, verified

    def set_phone_verified(self, user: Any, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str) -> Any:
        return User.objects.filter(phone=phone).first()

    def send_verification_code_sms(self, user: Any, phone: str, code: str, **kwargs: Any) -> None:
        sender = services.sms_sender()
        if sender is None:
            raise RuntimeError("No SMS sender is registered (the notifications app sends SMS).")
        sender(phone=phone, code=code, user_id=user.pk if user else None)

    def pre_authenticate(self, request: Any, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            request.retry_after = self._login_retry_after(request, **credentials)
            raise

    def _login_retry_after(self, request: Any, **credentials: Any) -> int:
        """Seconds until the per-account or per-IP failure window lets a login through."""
        key = self._get_login_attempts_cache_key(request, **credentials)
        now, wait = time.time(), 1.0
        for rate in ratelimit.get_rates(app="allauth.account", action="login_failed"):
            cache_key = ratelimit.get_cache_key(
                request, app="allauth.account", action="login_failed", rate=rate, key=key
            )
            hits = cache.get(cache_key, [])  # newest first
            if len(hits) >= rate.amount:
                wait = max(wait, hits[rate.amount - 1] + rate.duration - now)
        return int(wait + 0.999)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def save_user(self, request: Any, sociallogin: Any, form: Any = None) -> Any:
        with transaction.atomic():
            user = super().save_user(request, sociallogin, form)
            _announce(user)
        return user


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets at rest are Fernet tokens; the first key encrypts, every key decrypts."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "staff_totp_managed": (
            "Staff two-factor authentication is set up by operations (create_staff_user), "
            "not in the app."
        ),
    }

    @cached_property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k) for k in settings.MFA_ENCRYPTION_KEYS])

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        return self._fernet.decrypt(encrypted_text.encode()).decode()
