from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from django.views.i18n import set_language

from workshops import views as workshop_views

urlpatterns = [
    path("", workshop_views.home, name="home"),
    path("setup/", workshop_views.setup, name="setup"),
    path("signup/", workshop_views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(extra_context={"allow_signup": settings.ALLOW_SIGNUP}),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("join/", workshop_views.join_code, name="join_code"),
    path("j/<str:token>/", workshop_views.join, name="join"),
    path("j/<str:token>/retrouver/", workshop_views.reclaim, name="reclaim"),
    path("j/<str:token>/retrouver/attente/", workshop_views.reclaim_wait, name="reclaim_wait"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    # Lazy: the hashed name comes from collectstatic's manifest, read on first use;
    # not permanent: the next icon has another name.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"))),
    path("", include("workshops.urls")),
    path("", include("journeys.urls")),
    path("", include("mapping.urls")),
    path("", include("commitments.urls")),
    path("", include("commitments.sheets.urls")),
    path("", include("reviews.urls")),
    path("", include("workshops.exports.urls")),
]
