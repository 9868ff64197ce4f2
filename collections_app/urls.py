"""Collections: HTML routes."""

app_name = "collections_app"
urlpatterns: list = []
