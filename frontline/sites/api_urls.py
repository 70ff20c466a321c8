from rest_framework.routers import SimpleRouter

from frontline.sites import api

router = SimpleRouter()
router.register("sites", api.SiteViewSet, basename="site")
router.register("projects", api.ProjectViewSet, basename="project")
router.register("asset-models", api.AssetModelViewSet, basename="asset-model")
router.register("assets", api.AssetViewSet, basename="asset")
urlpatterns = router.urls
