"""Serializer fields shared by the API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.money import CURRENCY_CODES


class MinorUnitsField(serializers.IntegerField):
    """A money amount in minor units: a JSON integer and nothing else. DRF's IntegerField also
    takes 100.0, "100" and "１００" (any Unicode digits); money must not be guessed at."""

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:  # bool is an int subclass: refused too
            self.fail("invalid")
        return super().to_internal_value(data)


_CURRENCIES = serializers.ChoiceField(choices=CURRENCY_CODES)  # its choice indexes, built once


class CurrencyField(serializers.ChoiceField):
    """An ISO 4217 code we handle (the "Currency" enum of the schema). DRF rebuilds every
    declared field from its arguments for each serializer instance: with the currency list
    passed as `choices`, copying and indexing it again was half of a P2P transfer's input
    validation. The indexes are shared instead (DRF never changes
    them)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=(), **kwargs)
        self.grouped_choices = _CURRENCIES.grouped_choices
        self._choices = _CURRENCIES.choices
        self.choice_strings_to_values = _CURRENCIES.choice_strings_to_values
