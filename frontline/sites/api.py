"""API for sites, projects, asset models and assets: thin viewsets over ``sites.services``.

Reads go through ``visible_to(user)`` (another customer's record is a 404), every
foreign key in a payload is checked against the same scoping, and every write is a
service call. DELETE erases only a record nothing depends on (else 409): a site or
project in use is deactivated and an asset retired with a PATCH, so history and the
records that point at them stay intact.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from frontline.accounts.models import Organization
from frontline.accounts.roles import Cap
from frontline.core.api import (
    DESTROY_RESPONSES,
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    StrictModelSerializer,
)
from frontline.sites import filters, services
from frontline.sites.models import Asset, AssetModel, Project, Site

WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]

# ---------------------------------------------------------------- serializers


class SiteSerializer(StrictModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "customer",
            "customer_name",
            "address",
            "city",
            "latitude",
            "longitude",
            "time_zone",
            "notes",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness is checked by the service, which also wins races, with a field error.
        validators: list = []


class ProjectSerializer(StrictModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    sites = ScopedPrimaryKeyRelatedField(many=True, queryset=Site.objects.all(), required=False)
    site_names = serializers.SlugRelatedField(
        source="sites", slug_field="name", many=True, read_only=True
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "code",
            "name",
            "customer",
            "customer_name",
            "description",
            "sites",
            "site_names",
            "contract_start",
            "contract_end",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"code": {"validators": []}}
        validators: list = []


class AssetModelSerializer(StrictModelSerializer):
    label = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = AssetModel
        fields = ["id", "manufacturer", "model", "category", "label", "description"]
        read_only_fields = ["id"]
        validators: list = []


class AssetSerializer(StrictModelSerializer):
    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())
    site_name = serializers.CharField(source="site.name", read_only=True)
    customer = serializers.IntegerField(source="site.customer_id", read_only=True)
    customer_name = serializers.CharField(source="site.customer.name", read_only=True)
    model = ScopedPrimaryKeyRelatedField(queryset=AssetModel.objects.all())
    model_label = serializers.CharField(source="model.__str__", read_only=True)
    category = serializers.CharField(source="model.category", read_only=True)
    parent = ScopedPrimaryKeyRelatedField(
        queryset=Asset.objects.all(), allow_null=True, required=False
    )
    parent_name = serializers.CharField(source="parent.name", read_only=True, allow_null=True)

    class Meta:
        model = Asset
        fields = [
            "id",
            "name",
            "serial",
            "site",
            "site_name",
            "customer",
            "customer_name",
            "model",
            "model_label",
            "category",
            "parent",
            "parent_name",
            "location",
            "installed_on",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []


# ---------------------------------------------------------------- viewsets


@extend_schema_view(
    list=extend_schema(summary="List the sites you can see"),
    create=extend_schema(summary="Add a customer site"),
    partial_update=extend_schema(summary="Change a site (set is_active=false to deactivate it)"),
    destroy=extend_schema(
        summary="Delete a site that has no assets and no project (else 409)",
        responses=DESTROY_RESPONSES,
    ),
)
class SiteViewSet(ScopedModelViewSet):
    queryset = Site.objects.select_related("customer")
    serializer_class = SiteSerializer
    filterset_class = filters.SiteFilter
    write_capability = Cap.MANAGE_SITES
    http_method_names = WRITE_METHODS
    ordering_fields = ["name", "city", "customer__name", "created_at", "updated_at"]
    search_fields = ["name", "address", "city", "customer__name"]

    def perform_create(self, serializer):
        serializer.instance = services.create_site(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_site(
            actor=self.request.user, site=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_site(actor=self.request.user, site=instance)


@extend_schema_view(
    list=extend_schema(summary="List the projects (service contracts) you can see"),
    create=extend_schema(summary="Record a service contract"),
    partial_update=extend_schema(summary="Change a project, including the sites it covers"),
    destroy=extend_schema(summary="Delete a project", responses=DESTROY_RESPONSES),
)
class ProjectViewSet(ScopedModelViewSet):
    queryset = Project.objects.select_related("customer").prefetch_related("sites")
    serializer_class = ProjectSerializer
    filterset_class = filters.ProjectFilter
    write_capability = Cap.MANAGE_PROJECTS
    http_method_names = WRITE_METHODS
    ordering_fields = [
        "code",
        "name",
        "customer__name",
        "contract_start",
        "contract_end",
        "created_at",
    ]
    search_fields = ["code", "name", "customer__name"]

    def perform_create(self, serializer):
        serializer.instance = services.create_project(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_project(
            actor=self.request.user, project=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_project(actor=self.request.user, project=instance)


@extend_schema_view(
    list=extend_schema(summary="List the equipment catalogue"),
    create=extend_schema(summary="Add a make and model of equipment"),
    partial_update=extend_schema(summary="Change an asset model"),
    destroy=extend_schema(
        summary="Delete an asset model no asset uses (else 409)", responses=DESTROY_RESPONSES
    ),
)
class AssetModelViewSet(ScopedModelViewSet):
    queryset = AssetModel.objects.all()
    serializer_class = AssetModelSerializer
    filterset_class = filters.AssetModelFilter
    write_capability = Cap.MANAGE_ASSET_MODELS
    http_method_names = WRITE_METHODS
    ordering_fields = ["manufacturer", "model", "category"]
    search_fields = ["manufacturer", "model", "description"]

    def perform_create(self, serializer):
        serializer.instance = services.create_asset_model(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_asset_model(
            actor=self.request.user, asset_model=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_asset_model(actor=self.request.user, asset_model=instance)


@extend_schema_view(
    list=extend_schema(summary="List the assets (equipment) you can see"),
    create=extend_schema(summary="Register an asset at a site"),
    partial_update=extend_schema(summary="Change an asset (set status=retired to retire it)"),
    destroy=extend_schema(
        summary="Delete an asset that has no parts (else 409)", responses=DESTROY_RESPONSES
    ),
)
class AssetViewSet(ScopedModelViewSet):
    queryset = Asset.objects.select_related("site__customer", "model", "parent")
    serializer_class = AssetSerializer
    filterset_class = filters.AssetFilter
    write_capability = Cap.MANAGE_ASSETS
    http_method_names = WRITE_METHODS
    ordering_fields = ["name", "serial", "status", "site__name", "installed_on", "created_at"]
    search_fields = [
        "name",
        "serial",
        "location",
        "site__name",
        "model__model",
        "model__manufacturer",
    ]

    def perform_create(self, serializer):
        serializer.instance = services.create_asset(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_asset(
            actor=self.request.user, asset=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_asset(actor=self.request.user, asset=instance)
