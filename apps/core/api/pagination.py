from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import pagination, serializers
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    """Stable pages under concurrent inserts; views set `ordering` when it differs."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200


def page_of(
    name: str, items: "serializers.BaseSerializer[Any]", *, links: tuple[str, ...] = ()
) -> "serializers.Serializer[Any]":
    """The documented shape of a list answer: `{"results": [...]}` plus its page links (URLs,
    null on the last page)."""
    fields = {link: serializers.CharField(allow_null=True) for link in links}
    return inline_serializer(name, {**fields, "results": items})


def next_link(request: Request, cursor: str | None) -> str | None:
    """The URL of the next page of a keyset-paged list: this request's, with `cursor` set."""
    if not cursor:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
