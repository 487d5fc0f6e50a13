"""Webhook endpoints for API keys (`webhooks:read`, `webhooks:write`): a system registers its
own receiver. Its endpoints belong to the key's namespace and get only that namespace's
ledger events; endpoints for everything else are registered by operations in the admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.machine import ScopeRequired, principal
from apps.core.api.pagination import CursorPagination, page_of
from apps.webhooks import errors, selectors, services
from apps.webhooks.catalog import NAMESPACED
from apps.webhooks.models import Endpoint


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    disabled_reason = serializers.CharField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    consecutive_failures = serializers.IntegerField()


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="shown once: keep it to verify signatures")


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    replay_of = serializers.UUIDField(source="replay_of_id", allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class WebhookKeyApi(APIView):
    permission_classes = [ScopeRequired]
    required_scopes = {"GET": "webhooks:read", "POST": "webhooks:write", "PATCH": "webhooks:write"}

    def namespace(self, request: Request) -> str:
        caller = principal(request)
        assert caller is not None  # noqa: S101 - ScopeRequired let only keys in
        return caller.namespace


class Pagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple


class WebhookEndpointListApi(WebhookKeyApi):
    domain_errors = (errors.UrlRefused, errors.EventTypeNotAllowed, errors.UnknownEventType)

    class InputSerializer(serializers.Serializer):
        url = serializers.URLField(max_length=2000)
        description = serializers.CharField(max_length=200, required=False, default="")
        event_types = serializers.ListField(
            child=serializers.ChoiceField(choices=NAMESPACED), required=False, default=list
        )

    @extend_schema(
        responses={
            200: page_of(
                "WebhookEndpointList",
                WebhookEndpointSerializer(many=True),
                links=("next", "previous"),
            )
        }
    )
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        rows = selectors.endpoints_of(namespace=self.namespace(request))
        page = paginator.paginate_queryset(rows, request, view=self) or []
        infos = [selectors.endpoint_info(row) for row in page]
        return paginator.get_paginated_response(WebhookEndpointSerializer(infos, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: WebhookEndpointWithSecretSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.endpoint_create(namespace=self.namespace(request), **data.validated_data)
        body = {**WebhookEndpointSerializer(created.endpoint).data, "secret": created.secret}
        return Response(body, status=201)


class WebhookEndpointDetailApi(WebhookKeyApi):
    domain_errors = (
        errors.EndpointNotFound,
        errors.UrlRefused,
        errors.EventTypeNotAllowed,
        errors.UnknownEventType,
    )

    class InputSerializer(serializers.Serializer):
        url = serializers.URLField(max_length=2000, required=False)
        description = serializers.CharField(max_length=200, required=False)
        event_types = serializers.ListField(
            child=serializers.ChoiceField(choices=NAMESPACED), required=False
        )
        status = serializers.ChoiceField(choices=Endpoint.Status.choices, required=False)

    @extend_schema(responses={200: WebhookEndpointSerializer})
    def get(self, request: Request, endpoint_id: UUID) -> Response:
        found = selectors.endpoint_of(endpoint_id=endpoint_id, namespace=self.namespace(request))
        return Response(WebhookEndpointSerializer(found).data)

    @extend_schema(request=InputSerializer, responses={200: WebhookEndpointSerializer})
    def patch(self, request: Request, endpoint_id: UUID) -> Response:
        selectors.endpoint_of(endpoint_id=endpoint_id, namespace=self.namespace(request))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes: dict[str, Any] = dict(data.validated_data)
        status = changes.pop("status", None)
        info = services.endpoint_update(endpoint_id=endpoint_id, **changes)
        if status == "disabled":
            info = services.endpoint_disable(endpoint_id=endpoint_id, reason="disabled by API key")
        elif status == "enabled":
            info = services.endpoint_enable(endpoint_id=endpoint_id)
        return Response(WebhookEndpointSerializer(info).data)


class WebhookEndpointRotateApi(WebhookKeyApi):
    domain_errors = (errors.EndpointNotFound,)

    class InputSerializer(serializers.Serializer):
        previous_valid_for_hours = serializers.IntegerField(
            min_value=0, max_value=168, required=False, help_text="default 24; 0: a leaked secret"
        )

    class OutputSerializer(serializers.Serializer):
        secret = serializers.CharField(help_text="shown once")
        previous_expires_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, endpoint_id: UUID) -> Response:
        selectors.endpoint_of(endpoint_id=endpoint_id, namespace=self.namespace(request))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hours = data.validated_data.get("previous_valid_for_hours")
        rotated = services.endpoint_secret_rotate(
            endpoint_id=endpoint_id,
            previous_valid_for=timedelta(hours=hours) if hours is not None else None,
        )
        return Response(self.OutputSerializer(rotated).data)


class WebhookEndpointDeliveriesApi(WebhookKeyApi):
    domain_errors = (errors.EndpointNotFound,)

    @extend_schema(
        responses={
            200: page_of(
                "WebhookDeliveryList",
                WebhookDeliverySerializer(many=True),
                links=("next", "previous"),
            )
        }
    )
    def get(self, request: Request, endpoint_id: UUID) -> Response:
        selectors.endpoint_of(endpoint_id=endpoint_id, namespace=self.namespace(request))
        paginator = Pagination()
        rows = selectors.delivery_list(endpoint_id=endpoint_id).order_by("-created_at", "-id")
        page = paginator.paginate_queryset(rows, request, view=self) or []
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryReplayApi(WebhookKeyApi):
    domain_errors = (errors.DeliveryNotFound, errors.EndpointDisabled)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    def post(self, request: Request, delivery_id: UUID) -> Response:
        selectors.delivery_of(delivery_id=delivery_id, namespace=self.namespace(request))
        replay_id = services.delivery_replay(delivery_id=delivery_id)
        return Response(
            WebhookDeliverySerializer(selectors.delivery_get(delivery_id=replay_id)).data, 202
        )
