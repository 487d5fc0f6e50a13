from django.urls import path

from apps.accounts.api import views

urlpatterns = [
    path("me", views.MeApi.as_view(), name="me"),
    path("me/close", views.MeCloseApi.as_view(), name="me-close"),
    path("me/totp-qr.png", views.TotpQrCodeApi.as_view(), name="me-totp-qr"),
    path("staff/customers/<int:user_id>", views.CustomerApi.as_view(), name="staff-customer"),
]
