"""Help desk: HTML routes."""

app_name = "helpdesk"
urlpatterns: list = []
