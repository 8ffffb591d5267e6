"""API shapes of the canvas studio: explicit output serializers (read-only) and
input serializers per write."""

from __future__ import annotations

from rest_framework import serializers

from .models import AccountFollowedCreator, Creator, CreatorCategory, Platform, Project, ProjectCollaborator
from .models.projects import ProjectPermission


class CanvasUserSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


# Creators


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = CreatorCategory
        fields = ["id", "name", "description", "sort_order"]
        read_only_fields = fields


class CategoryRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


class CreatorSerializer(serializers.ModelSerializer):
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    is_followed = serializers.BooleanField(read_only=True, help_text="Followed by the active account.")

    class Meta:
        model = Creator
        fields = [
            "id", "platform", "username", "profile_url", "display_name", "follower_count", "category",
            "is_verified", "last_scraped_at", "scrape_frequency_hours", "is_followed",
        ]  # fmt: skip
        read_only_fields = fields


class CreatorQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="Handle or name.")
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    category = serializers.UUIDField(required=False)
    verified = serializers.BooleanField(required=False, allow_null=True, default=None)
    followed = serializers.BooleanField(required=False, allow_null=True, default=None)
    min_followers = serializers.IntegerField(required=False, min_value=0)
    max_followers = serializers.IntegerField(required=False, min_value=0)

    def validate(self, data):
        low, high = data.get("min_followers"), data.get("max_followers")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_followers": ["Must be at least min_followers."]})
        return data


class FollowedCreatorSerializer(CreatorSerializer):
    is_followed = serializers.BooleanField(read_only=True, default=True)


class FollowSerializer(serializers.ModelSerializer):
    creator = FollowedCreatorSerializer(read_only=True)
    followed_by = CanvasUserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AccountFollowedCreator
        fields = ["id", "creator", "followed_by", "followed_at"]
        read_only_fields = fields


class FollowCreateSerializer(serializers.Serializer):
    creator = serializers.UUIDField()


# Projects


class ProjectSerializer(serializers.ModelSerializer):
    created_by = CanvasUserSerializer(read_only=True, allow_null=True)
    last_accessed_by = CanvasUserSerializer(read_only=True, allow_null=True)
    my_permission = serializers.SerializerMethodField(help_text="owner, editor or viewer: what you may do.")
    collaborator_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id", "title", "description", "is_archived", "created_by", "created_at", "updated_at",
            "last_accessed_at", "last_accessed_by", "my_permission", "collaborator_count",
        ]  # fmt: skip
        read_only_fields = fields

    def get_my_permission(self, project) -> str | None:
        permission = self.context["permission"](project)
        return permission.value if permission else None


class ProjectDetailSerializer(ProjectSerializer):
    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "canvas_data"]
        read_only_fields = fields


class ProjectWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    canvas_data = serializers.JSONField(
        required=False, help_text='The board\'s view: {"viewport": {"x", "y", "zoom"}, "settings": {...}}.'
    )


class ProjectQuerySerializer(serializers.Serializer):
    archived = serializers.BooleanField(required=False, default=False, help_text="true: the archived ones.")
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)


class CollaboratorSerializer(serializers.ModelSerializer):
    user = CanvasUserSerializer(read_only=True)
    added_by = CanvasUserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ProjectCollaborator
        fields = ["id", "project", "user", "permission_level", "added_at", "added_by"]
        read_only_fields = fields


class CollaboratorCreateSerializer(serializers.Serializer):
    project = serializers.UUIDField()
    user = serializers.UUIDField(help_text="A member of the account.")
    permission_level = serializers.ChoiceField(choices=ProjectPermission.choices, default=ProjectPermission.EDITOR)


class CollaboratorChangeSerializer(serializers.Serializer):
    permission_level = serializers.ChoiceField(choices=ProjectPermission.choices)


class CollaboratorQuerySerializer(serializers.Serializer):
    project = serializers.UUIDField(required=False)


class BoardSnapshotSerializer(serializers.Serializer):
    """The board as a reload sees it (GET projects/{id}/board/)."""

    project_id = serializers.UUIDField()
    permission = serializers.CharField()
    canvas_data = serializers.DictField()
    nodes = serializers.ListField(child=serializers.DictField())
    connections = serializers.ListField(child=serializers.DictField())
    folder_items = serializers.DictField(child=serializers.IntegerField())
    jobs = serializers.ListField(child=serializers.DictField())


class BoardAppliedSerializer(serializers.Serializer):
    """An accepted board operation, as the board socket broadcasts it."""

    type = serializers.CharField()
    op = serializers.CharField()
    op_id = serializers.CharField(allow_null=True)
    by = serializers.DictField()
    node = serializers.DictField()
    related = serializers.ListField(child=serializers.DictField())
