from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class DefaultPagination(PageNumberPagination):
    """?page=N&page_size=M (default 50, capped at 500). A page or page size that is not a
    positive whole number is a 400; a page past the end is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        for name in (self.page_query_param, self.page_size_query_param):
            value = request.query_params.get(name)
            if value is not None and not (value.isascii() and value.isdigit() and 0 < int(value) < 10**9):
                errors[name] = ["Use a whole number of 1 or more."]
        if errors:
            raise serializers.ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)
