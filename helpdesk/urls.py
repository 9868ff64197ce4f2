"""Help desk: HTML routes."""

from django.urls import path

app_name = "helpdesk"
urlpatterns: list = [
    path("", lambda r: None, name="index"),
    path("t/<str:reference>/", lambda r: None, name="ticket"),
    path("rate/<str:token>/", lambda r: None, name="rate"),
]
