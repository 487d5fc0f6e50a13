"""Shared-wallet members and invitations: the owner invites by e-mail or verified phone, the
invitee accepts or declines, the owner changes or removes members, a member leaves."""

import re
from typing import Any
from uuid import UUID

from django.core.validators import validate_email
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import MinorUnitsField
from apps.core.api.pagination import page_of
from apps.core.money import Money
from apps.core.users import request_user_id
from apps.wallets import errors, selectors, services
from apps.wallets.models import MemberRole

_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_ROLES = [MemberRole.SPENDER.value, MemberRole.VIEWER.value]


class MemberSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        allow_null=True, help_text="The member's id on this wallet; null for the owner."
    )
    name = serializers.CharField()
    role = serializers.CharField(help_text='"owner", "spender" (may send) or "viewer".')
    daily_limit = serializers.IntegerField(
        allow_null=True,
        help_text="In minor units; shown to the owner and the member only. Null: no own limit.",
    )
    currency = serializers.CharField()
    is_you = serializers.BooleanField()
    joined_at = serializers.DateTimeField()


class InvitationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    wallet = serializers.UUIDField()
    wallet_name = serializers.CharField()
    invited_by = serializers.CharField()
    contact = serializers.CharField()
    role = serializers.CharField()
    daily_limit = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    state = serializers.CharField()
    created_at = serializers.DateTimeField()


class ContactField(serializers.CharField):
    """An e-mail address (lower-cased) or a verified phone in +E.164 form, normalized as it
    is read, so that services get one spelling of each contact."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value.startswith("+"):
            if not _PHONE.match(value):
                raise serializers.ValidationError("A phone number in +E.164 form.")
            return value
        validate_email(value)
        return value.lower()


def _limit(data: dict[str, Any], currency_of: Any) -> Any:
    amount = data["daily_limit"]
    return None if amount is None else Money(amount, currency_of())


class WalletMemberListApi(APIView):
    domain_errors = (
        errors.WalletNotFound,
        errors.WalletNotShared,
        errors.NotWalletOwner,
        errors.AlreadyMember,
        errors.WalletClosed,
    )

    class InputSerializer(serializers.Serializer):
        contact = ContactField(
            max_length=254,
            help_text="The invitee's e-mail address or verified phone (+E.164). The answer is"
            " the same whether or not a customer has it.",
        )
        role = serializers.ChoiceField(choices=_ROLES, default=MemberRole.SPENDER)
        daily_limit = MinorUnitsField(
            min_value=0, max_value=10**15, allow_null=True, required=False, default=None
        )

    @extend_schema(responses={200: page_of("WalletMemberList", MemberSerializer(many=True))})
    def get(self, request: Request, wallet_id: UUID) -> Response:
        members = selectors.wallet_members_list(
            wallet_id=wallet_id, user_id=request_user_id(request)
        )
        return Response({"results": MemberSerializer(members, many=True).data})

    @extend_schema(request=InputSerializer, responses={201: InvitationSerializer})
    def post(self, request: Request, wallet_id: UUID) -> Response:
        user_id = request_user_id(request)
        # Someone else's wallet is not found before its input is looked at.
        wallet = selectors.wallet_get(wallet_id=wallet_id, user_id=user_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invitation = services.wallet_invitation_create(
            wallet_id=wallet_id,
            owner_id=user_id,
            contact=data["contact"],
            role=data["role"],
            daily_limit=_limit(data, lambda: wallet.currency),
        )
        return Response(InvitationSerializer(invitation).data, status=201)


class WalletMemberDetailApi(APIView):
    domain_errors = (
        errors.WalletNotFound,
        errors.WalletNotShared,
        errors.MemberNotFound,
        errors.NotWalletOwner,
    )

    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=_ROLES, required=False)
        daily_limit = MinorUnitsField(
            min_value=0,
            max_value=10**15,
            allow_null=True,
            required=False,
            help_text="In minor units; null removes the member's own limit.",
        )

    @extend_schema(request=InputSerializer, responses={200: MemberSerializer})
    def patch(self, request: Request, wallet_id: UUID, member_id: UUID) -> Response:
        user_id = request_user_id(request)
        # Someone else's wallet is not found before its input is looked at.
        wallet = selectors.wallet_get(wallet_id=wallet_id, user_id=user_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changes: dict[str, Any] = {"role": data.get("role")}
        if "daily_limit" in data:
            changes["daily_limit"] = _limit(data, lambda: wallet.currency)
        member = services.wallet_member_update(
            wallet_id=wallet_id,
            member_id=member_id,
            changed_by_id=user_id,
            **changes,
        )
        return Response(MemberSerializer(member).data)

    @extend_schema(
        request=None,
        responses={204: None},
        description="The owner removes a member; a member removes themselves (leaves).",
    )
    def delete(self, request: Request, wallet_id: UUID, member_id: UUID) -> Response:
        services.wallet_member_remove(
            wallet_id=wallet_id, member_id=member_id, changed_by_id=request_user_id(request)
        )
        return Response(status=204)


class WalletInvitationListApi(APIView):
    """Pending invitations to shared wallets addressed to you."""

    @extend_schema(
        responses={200: page_of("WalletInvitationList", InvitationSerializer(many=True))}
    )
    def get(self, request: Request) -> Response:
        invitations = selectors.invitations_for(user_id=request_user_id(request))
        return Response({"results": InvitationSerializer(invitations, many=True).data})


class _InvitationAnswerApi(APIView):
    accept = True
    domain_errors = (errors.InvitationNotFound, errors.InvitationNotPending, errors.WalletClosed)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    def post(self, request: Request, invitation_id: UUID) -> Response:
        invitation = services.wallet_invitation_answer(
            invitation_id=invitation_id, user_id=request_user_id(request), accept=self.accept
        )
        return Response(InvitationSerializer(invitation).data)


class WalletInvitationAcceptApi(_InvitationAnswerApi):
    """Join the wallet with the invited role and limit; accepting again changes nothing."""

    accept = True


class WalletInvitationDeclineApi(_InvitationAnswerApi):
    """Decline; declining again changes nothing."""

    accept = False
