"""Filtering and ordering. Unknown ordering fields are a 400, not silently ignored."""

import django_filters
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params is None:
            return self.get_default_ordering(view)
        fields = [param.strip() for param in params.split(",")]
        valid = self.remove_invalid_fields(queryset, fields, view, request)
        if not fields or len(valid) != len(fields):
            allowed = sorted(
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            )
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Order by one of: {', '.join(allowed)} (prefix - to reverse)."
                    ]
                }
            )
        return valid

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if fields and fields != "__all__":
            choices = [f for name in fields for f in (name, f"-{name}")]
            for parameter in parameters:
                parameter["schema"] = {"type": "string", "enum": choices}
        return parameters


class StrictFilterSet(django_filters.FilterSet):
    """A filter given in the query must be a real choice: ``?state=`` or ``?verified=maybe``
    are 400s, not silently "no filter"."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, flt in self.filters.items():
            if name not in self.data:
                continue
            value = self.data.get(name)
            if isinstance(flt, django_filters.BooleanFilter) and value not in ("true", "false"):
                self.form.add_error(name, "Use true or false.")
                valid = False
            elif isinstance(flt, django_filters.ChoiceFilter) and value == "":
                self.form.add_error(name, "Choose a value.")
                valid = False
        return valid
