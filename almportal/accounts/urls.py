from django.urls import path

from . import auth_views, views

app_name = "accounts"
urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/new/", views.token_create_view, name="token-create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/read-all/", views.notification_read_all, name="notifications-read-all"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password-change"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth_views.auth.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_sent.html"), name="password-reset-sent"),
    path("password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password-reset-confirm"),
    path("password-reset/done/", auth_views.auth.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_done.html"), name="password-reset-done"),
    path("two-factor/", auth_views.two_factor_setup, name="two-factor-setup"),
    path("two-factor/verify/", auth_views.two_factor_verify, name="two-factor-verify"),
    path("two-factor/recovery-codes/", auth_views.recovery_codes_new,
         name="two-factor-recovery-codes"),
]
