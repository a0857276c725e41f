from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("agents", api.AgentViewSet, basename="api-agent")
router.register("models", api.ModelComponentViewSet, basename="api-model")
router.register("prompts", api.PromptViewSet, basename="api-prompt")
router.register("tools", api.ToolViewSet, basename="api-tool")
router.register("data-sources", api.DataSourceViewSet, basename="api-data-source")
router.register("credentials", api.CredentialViewSet, basename="api-credential")
urlpatterns = router.urls
