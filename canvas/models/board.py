"""Seed 003 board rows of a project: folders (and the pieces in them, in order),
AI chat nodes, and connections between any two nodes. Every node is its own
row with a `version` (BoardNode), so collaborators' operations apply row by
row with last write wins (ADR 0009)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel

from .common import BoardNode, coordinate

color_validator = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Use a colour such as #3B82F6.")


def _size_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(width__gt=0, height__gt=0), name=name)


class CanvasFolder(BoardNode, TenantModel):
    """Seed 003 `canvas_folders`: a box on the board grouping content pieces."""

    project = models.ForeignKey("canvas.Project", on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=255)
    position_x = coordinate()
    position_y = coordinate()
    width = coordinate(300)
    height = coordinate(200)
    is_collapsed = models.BooleanField(default=False)
    color = models.CharField(max_length=7, default="#3B82F6", validators=[color_validator])
    folder_data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            _size_check("canvas_folder_size"),
            models.CheckConstraint(condition=Q(color__regex=r"^#[0-9A-Fa-f]{6}$"), name="canvas_folder_color"),
            models.CheckConstraint(condition=~Q(name=""), name="canvas_folder_name"),
        ]
        indexes = [models.Index(fields=["project"], name="canvas_folder_project")]

    def __str__(self) -> str:
        return self.name


class CanvasFolderItem(TenantModel):
    """Seed 003 `canvas_folder_items`: a piece in a folder, in `sort_order`. The
    folder and the piece belong to the same project (a database trigger checks)."""

    folder = models.ForeignKey(CanvasFolder, on_delete=models.CASCADE, related_name="items")
    content_piece = models.ForeignKey("canvas.ContentPiece", on_delete=models.CASCADE, related_name="folder_items")
    sort_order = models.IntegerField(default=0)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["folder", "sort_order", "added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["folder", "content_piece"], name="canvas_folder_item_once")]
        indexes = [models.Index(fields=["folder", "sort_order"], name="canvas_folder_item_order")]

    def __str__(self) -> str:
        return f"{self.content_piece_id} in {self.folder_id} #{self.sort_order}"


class ChatInterface(BoardNode, TenantModel):
    """Seed 003 `chat_interfaces`: an AI chat node. Its answers read the nodes
    connected to it. An empty `ai_model_preference` means the platform's default
    chat model (the AI gateway's registry names the models)."""

    project = models.ForeignKey("canvas.Project", on_delete=models.CASCADE, related_name="chat_interfaces")
    name = models.CharField(max_length=255, default="AI Chat")
    position_x = coordinate()
    position_y = coordinate()
    width = coordinate(400)
    height = coordinate(500)
    chat_history = models.JSONField(default=list, blank=True)
    connected_content = models.JSONField(default=dict, blank=True)
    ai_model_preference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [_size_check("canvas_chat_size")]
        indexes = [models.Index(fields=["project"], name="canvas_chat_project")]

    def __str__(self) -> str:
        return self.name


class NodeKind(models.TextChoices):
    """Seed 003 `source_type` / `target_type`."""

    CONTENT_PIECE = "content_piece", _("Content piece")
    FOLDER = "folder", _("Folder")
    CHAT_INTERFACE = "chat_interface", _("Chat")


# For each end of a connection: the kind and the foreign key that holds it.
END_FIELDS = {
    NodeKind.CONTENT_PIECE: "content_piece",
    NodeKind.FOLDER: "folder",
    NodeKind.CHAT_INTERFACE: "chat_interface",
}


def _one_of(names: list[str]) -> Q:
    """Exactly one of `names` is set."""
    combos = Q()
    for keep in names:
        combos |= Q(**{f"{n}__isnull": n != keep for n in names})
    return combos


def default_connection_style() -> dict:
    return {"color": "#6B7280", "width": 2}


class CanvasConnection(BoardNode, TenantModel):
    """Seed 003 `canvas_connections`. The seed's (`source_type`, `source_id`)
    pairs are stored as one nullable foreign key per kind, exactly one set per
    end (CHECK), so the database keeps referential integrity: deleting a node
    deletes its connections. Both ends and the connection belong to the same
    project (a trigger checks). `source_type`/`source_id` (and target) give the
    seed's view."""

    project = models.ForeignKey("canvas.Project", on_delete=models.CASCADE, related_name="connections")
    source_content_piece = models.ForeignKey(
        "canvas.ContentPiece", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source_folder = models.ForeignKey(CanvasFolder, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    source_chat_interface = models.ForeignKey(
        ChatInterface, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target_content_piece = models.ForeignKey(
        "canvas.ContentPiece", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target_folder = models.ForeignKey(CanvasFolder, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    target_chat_interface = models.ForeignKey(
        ChatInterface, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    connection_style = models.JSONField(default=default_connection_style, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=_one_of([f"source_{f}" for f in END_FIELDS.values()]), name="canvas_connection_one_source"
            ),
            models.CheckConstraint(
                condition=_one_of([f"target_{f}" for f in END_FIELDS.values()]), name="canvas_connection_one_target"
            ),
            # A node is not connected to itself (NULL = NULL is not true, so only a same-kind pair can clash).
            *[
                models.CheckConstraint(
                    condition=~Q(**{f"source_{f}": models.F(f"target_{f}")}), name=f"canvas_connection_no_loop_{f}"
                )
                for f in END_FIELDS.values()
            ],
            # One live connection per ordered pair of nodes.
            models.UniqueConstraint(
                fields=[*(f"source_{f}" for f in END_FIELDS.values()), *(f"target_{f}" for f in END_FIELDS.values())],
                condition=Q(deleted_at__isnull=True),
                nulls_distinct=False,
                name="canvas_connection_once",
            ),
        ]
        indexes = [models.Index(fields=["project"], name="canvas_connection_project")]

    def __str__(self) -> str:
        return f"{self.source_type}:{self.source_id} → {self.target_type}:{self.target_id}"

    def _end(self, prefix: str) -> tuple[str, object]:
        for kind, field in END_FIELDS.items():
            value = getattr(self, f"{prefix}_{field}_id")
            if value is not None:
                return kind.value, value
        return "", None

    @property
    def source_type(self) -> str:
        return self._end("source")[0]

    @property
    def source_id(self):
        return self._end("source")[1]

    @property
    def target_type(self) -> str:
        return self._end("target")[0]

    @property
    def target_id(self):
        return self._end("target")[1]
