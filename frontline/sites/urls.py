from django.urls import path

from frontline.sites import views

app_name = "sites"
urlpatterns = [
    path("sites/", views.SiteListView.as_view(), name="site-list"),
    path("sites/new/", views.SiteCreateView.as_view(), name="site-create"),
    path("sites/map/", views.SiteMapView.as_view(), name="site-map"),
    path("sites/map/data.json", views.site_map_data, name="site-map-data"),
    path("sites/<str:pk>/", views.SiteDetailView.as_view(), name="site-detail"),
    path("sites/<str:pk>/edit/", views.SiteEditView.as_view(), name="site-edit"),
    path("sites/<str:pk>/delete/", views.SiteDeleteView.as_view(), name="site-delete"),
    path("projects/", views.ProjectListView.as_view(), name="project-list"),
    path("projects/new/", views.ProjectCreateView.as_view(), name="project-create"),
    path("projects/<str:pk>/", views.ProjectDetailView.as_view(), name="project-detail"),
    path("projects/<str:pk>/edit/", views.ProjectEditView.as_view(), name="project-edit"),
    path("projects/<str:pk>/delete/", views.ProjectDeleteView.as_view(), name="project-delete"),
    path("assets/", views.AssetListView.as_view(), name="asset-list"),
    path("assets/new/", views.AssetCreateView.as_view(), name="asset-create"),
    path("assets/<str:pk>/", views.AssetDetailView.as_view(), name="asset-detail"),
    path("assets/<str:pk>/edit/", views.AssetEditView.as_view(), name="asset-edit"),
    path("assets/<str:pk>/delete/", views.AssetDeleteView.as_view(), name="asset-delete"),
]
