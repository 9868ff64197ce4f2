"""Contracts: HTML routes."""

from django.urls import path

from . import views
from .views import policy as policy_views
from .views import products as product_views

app_name = "contracts"
urlpatterns = [
    # contracts and the review page
    path("", views.contract_list, name="list"),
    path("new/", views.contract_create_view, name="create"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/edit/", views.contract_edit, name="edit"),
    path("<int:pk>/versions/<int:version_id>/signed.pdf", views.contract_document, name="document"),
    # workflow actions (POST)
    path("<int:pk>/submit/", views.contract_submit_view, name="submit"),
    path("<int:pk>/decide/", views.contract_decide_view, name="decide"),
    path("<int:pk>/override/", views.contract_override_view, name="override"),
    path("<int:pk>/amend/", views.contract_amend_view, name="amend"),
    path("<int:pk>/terminate/", views.contract_terminate_view, name="terminate"),
    path("<int:pk>/comments/", views.contract_comment_view, name="comment"),
    # queues
    path("queues/review/", views.queue_review, name="queue_review"),
    path("queues/changes-requested/", views.queue_changes, name="queue_changes"),
    path("queues/approved/", views.queue_approved, name="queue_approved"),
    # finance policy and product catalogue
    path("policy/", policy_views.policy_list, name="policy"),
    path("policy/<int:entity_pk>/edit/", policy_views.policy_edit, name="policy_edit"),
    path("products/", product_views.product_list, name="products"),
    path("products/new/", product_views.product_new, name="product_new"),
    path("products/<int:pk>/edit/", product_views.product_edit, name="product_edit"),
]
