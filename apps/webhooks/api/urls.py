from django.urls import path

from apps.webhooks.api import views

urlpatterns = [
    path("webhook-endpoints", views.WebhookEndpointListApi.as_view(), name="webhook-endpoints"),
    path(
        "webhook-endpoints/<uuid:endpoint_id>",
        views.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint",
    ),
    path(
        "webhook-endpoints/<uuid:endpoint_id>/rotate-secret",
        views.WebhookEndpointRotateApi.as_view(),
        name="webhook-endpoint-rotate",
    ),
    path(
        "webhook-endpoints/<uuid:endpoint_id>/deliveries",
        views.WebhookEndpointDeliveriesApi.as_view(),
        name="webhook-endpoint-deliveries",
    ),
    path(
        "webhook-deliveries/<uuid:delivery_id>/replay",
        views.WebhookDeliveryReplayApi.as_view(),
        name="webhook-delivery-replay",
    ),
]
