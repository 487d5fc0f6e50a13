"""Everything under /api/v1/: each app's api.urls joins here as it lands."""

urlpatterns: list = []
