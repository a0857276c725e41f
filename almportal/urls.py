from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .accounts.auth_views import SignInView
from .core.http_errors import api_aware
from .operations.api import OtlpMetricsView
from .portal import views as portal_views
from .portal.api import PortfolioAPI
from .portal.api_health import SystemHealthAPI
from .portal.search import SearchAPI
from .standards import views as standards_views


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever the page says; send them to the static icon."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


admin.site.site_header = "ALM Portal administration"
admin.site.site_title = "ALM Portal administration"
admin.site.index_title = "Records and settings"
admin.site.site_url = "/"

api_v1: list[URLPattern | URLResolver] = [
    path("", include("almportal.accounts.api_urls")),
    path("", include("almportal.inventory.api_urls")),
    path("", include("almportal.risk.api_urls")),
    path("", include("almportal.releases.api_urls")),
    path("", include("almportal.operations.api_urls")),
    path("", include("almportal.enforcement.api_urls")),
    path("", include("almportal.retirement.api_urls")),
    path("", include("almportal.standards.api_urls")),
    path("", include("almportal.reviews.api_urls")),
    path("", include("almportal.audit.api_urls")),
    path("search/", SearchAPI.as_view(), name="api-search"),
    path("portfolio/", PortfolioAPI.as_view(), name="api-portfolio"),
    path("health/", SystemHealthAPI.as_view(), name="api-health"),
]

urlpatterns = [
    path("", include("almportal.portal.urls")),
    path("", include("almportal.releases.urls")),  # /releases/ and /agents/<slug>/releases/
    path("agents/", include("almportal.inventory.urls")),
    path("risk/", include("almportal.risk.urls")),
    path("operations/", include("almportal.operations.urls")),
    path("enforcement/", include("almportal.enforcement.urls")),
    path("retirement/", include("almportal.retirement.urls")),
    path("standards/", include("almportal.standards.urls")),
    # The portal's public signing keys, for checking the agent cards it publishes.
    path(".well-known/jwks.json", standards_views.jwks, name="jwks"),
    path("reviews/", include("almportal.reviews.urls")),
    path("audit/", include("almportal.audit.urls")),
    path("account/", include("almportal.accounts.urls")),
    path("login/", SignInView.as_view(), name="login"),
    path("sso/", include("almportal.accounts.sso")),
    path("scim/v2/", include("almportal.accounts.scim")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon),
    path("api/v1/", include(api_v1)),
    # OpenTelemetry's standard OTLP/HTTP path, for exporters given the portal's bare address.
    path("v1/metrics", OtlpMetricsView.as_view(), name="otlp-metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, as the Content-Security-Policy needs.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
]

handler400 = api_aware(portal_views.bad_request, 400)
handler403 = api_aware(portal_views.permission_denied, 403)
handler404 = api_aware(portal_views.page_not_found, 404)
handler500 = api_aware(portal_views.server_error, 500)
