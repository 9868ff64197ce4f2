from rest_framework.routers import SimpleRouter

from .views import AccountViewSet, JournalEntryViewSet, LegalEntityViewSet, OpenItemViewSet

router = SimpleRouter()
router.register("legal-entities", LegalEntityViewSet, basename="legal-entity")
router.register("accounts", AccountViewSet, basename="account")
router.register("journal-entries", JournalEntryViewSet, basename="journal-entry")
router.register("open-items", OpenItemViewSet, basename="open-item")

urlpatterns = router.urls
