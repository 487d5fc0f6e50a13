"""Serializer fields shared by the API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class MinorUnitsField(serializers.IntegerField):
    """A money amount in minor units: a JSON integer and nothing else. DRF's IntegerField also
    takes 100.0, "100" and "１００" (any Unicode digits); money must not be guessed at."""

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:  # bool is an int subclass: refused too
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]
