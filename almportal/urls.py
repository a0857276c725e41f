from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .accounts.forms import LoginForm
from .operations.api import OtlpMetricsView

api_v1 = [
    path("", include("almportal.accounts.api_urls")),
    path("", include("almportal.inventory.api_urls")),
    path("", include("almportal.risk.api_urls")),
    path("", include("almportal.releases.api_urls")),
    path("", include("almportal.operations.api_urls")),
    path("", include("almportal.retirement.api_urls")),
    path("", include("almportal.reviews.api_urls")),
    path("", include("almportal.audit.api_urls")),
]

urlpatterns = [
    path("", include("almportal.portal.urls")),
    path("agents/", include("almportal.inventory.urls")),
    path("risk/", include("almportal.risk.urls")),
    path("releases/", include("almportal.releases.urls")),
    path("operations/", include("almportal.operations.urls")),
    path("retirement/", include("almportal.retirement.urls")),
    path("reviews/", include("almportal.reviews.urls")),
    path("audit/", include("almportal.audit.urls")),
    path("account/", include("almportal.accounts.urls")),
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm,
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # OpenTelemetry's standard OTLP/HTTP path, for exporters given the portal's bare address.
    path("v1/metrics", OtlpMetricsView.as_view(), name="otlp-metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "almportal.portal.views.bad_request"
handler403 = "almportal.portal.views.permission_denied"
handler404 = "almportal.portal.views.page_not_found"
handler500 = "almportal.portal.views.server_error"
