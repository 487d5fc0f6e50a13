from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import CursorPagination, page_of
from apps.core.users import request_user_id
from apps.notifications import errors, selectors, services
from apps.notifications.catalog import CATEGORIES, CHANNELS
from apps.notifications.models import PushDevice


class NotificationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    category = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    # DRF's metaclass moves declared fields off the class, so this does not hide .data.
    data = serializers.DictField()  # type: ignore[assignment]
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class InboxPagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple


class NotificationListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="only unread messages")],
        responses={
            200: page_of(
                "NotificationPage", NotificationSerializer(many=True), links=("next", "previous")
            )
        },
    )
    def get(self, request: Request) -> Response:
        unread = request.query_params.get("unread") in ("1", "true")
        rows = selectors.inbox(user_id=request_user_id(request), unread_only=unread)
        paginator = InboxPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)


class UnreadCountApi(APIView):
    @extend_schema(
        responses={200: inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})}
    )
    def get(self, request: Request) -> Response:
        return Response({"unread": selectors.unread_count(user_id=request_user_id(request))})


class NotificationReadApi(APIView):
    domain_errors = (errors.NotificationNotFound,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, notification_id: UUID) -> Response:
        services.notification_mark_read(
            user_id=request_user_id(request), notification_id=notification_id
        )
        return Response(status=204)


class ReadAllApi(APIView):
    @extend_schema(
        request=None,
        responses={200: inline_serializer("ReadAll", {"marked": serializers.IntegerField()})},
    )
    def post(self, request: Request) -> Response:
        return Response(
            {"marked": services.notifications_mark_all_read(user_id=request_user_id(request))}
        )


class PreferenceSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=CATEGORIES)
    channel = serializers.ChoiceField(choices=CHANNELS)
    enabled = serializers.BooleanField()
    locked = serializers.BooleanField(read_only=True)


class PreferencesApi(APIView):
    domain_errors = (errors.PreferenceLocked,)

    class InputSerializer(serializers.Serializer):
        preferences = PreferenceSerializer(many=True)

    @extend_schema(
        responses={
            200: inline_serializer("Preferences", {"preferences": PreferenceSerializer(many=True)})
        }
    )
    def get(self, request: Request) -> Response:
        return Response({"preferences": selectors.preferences(user_id=request_user_id(request))})

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "PreferencesSaved", {"preferences": PreferenceSerializer(many=True)}
            )
        },
    )
    def put(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.preferences_set(
            user_id=request_user_id(request), choices=serializer.validated_data["preferences"]
        )
        return Response({"preferences": selectors.preferences(user_id=request_user_id(request))})


class DeviceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    platform = serializers.CharField()
    created_at = serializers.DateTimeField()


class DeviceListApi(APIView):
    class InputSerializer(serializers.Serializer):
        platform = serializers.ChoiceField(choices=PushDevice.Platform.choices)
        token = serializers.CharField(max_length=512)

    @extend_schema(responses={200: page_of("DeviceList", DeviceSerializer(many=True))})
    def get(self, request: Request) -> Response:
        devices = selectors.devices(user_id=request_user_id(request))
        return Response({"results": DeviceSerializer(devices, many=True).data})

    @extend_schema(
        request=InputSerializer, responses={200: DeviceSerializer, 201: DeviceSerializer}
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device_id, created = services.device_register(
            user_id=request_user_id(request), **serializer.validated_data
        )
        device = selectors.devices(user_id=request_user_id(request)).get(pk=device_id)
        return Response(DeviceSerializer(device).data, status=201 if created else 200)


class DeviceDetailApi(APIView):
    domain_errors = (errors.DeviceNotFound,)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, device_id: UUID) -> Response:
        services.device_remove(user_id=request_user_id(request), device_id=device_id)
        return Response(status=204)
