from django.urls import path

from apps.notifications.api import views

urlpatterns = [
    path("notifications", views.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/unread-count", views.UnreadCountApi.as_view(), name="notification-unread"),
    path("notifications/read-all", views.ReadAllApi.as_view(), name="notification-read-all"),
    path("notifications/preferences", views.PreferencesApi.as_view(), name="notification-prefs"),
    path(
        "notifications/<uuid:notification_id>/read",
        views.NotificationReadApi.as_view(),
        name="notification-read",
    ),
    path("devices", views.DeviceListApi.as_view(), name="device-list"),
    path("devices/<uuid:device_id>", views.DeviceDetailApi.as_view(), name="device-detail"),
]
