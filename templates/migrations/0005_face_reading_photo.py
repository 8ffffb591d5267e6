"""Face reading reads a photo (issue 11, seed 001 `input_files`).

`input_files` holds the storage paths of what the user sent, encrypted at rest
like `input_data` (no row has any yet, so nothing to convert). Face reading gets
a v2 template with an optional photo parameter, made from the seeded v1 (its
care and language rules kept) and activated only where v1 is still the active
seeded version: an operator's own version is left alone.
"""

import copy

from django.contrib.postgres.fields import ArrayField
from django.db import migrations, models
from django.utils import timezone

import templates.models.fields

CODE = "face-reading"
PHOTO = {
    "name": "photo", "type": "image",
    "label": {"en": "Photo of your face (optional)", "ko": "얼굴 사진 (선택)"},
    "help": {"en": "JPEG, PNG or WebP, facing the camera. Used only for this reading.",
             "ko": "JPEG, PNG, WebP 정면 사진. 이 풀이에만 쓰입니다."},
}  # fmt: skip
SYSTEM = (
    "You are a reader of Korean physiognomy (gwansang, 관상). You may receive a photo of the face, a description "
    "of it, or both. Read only what you can see in the photo or what is described: leave out a feature that is "
    "neither visible nor described, and say in the summary what the reading is based on (photo, description or "
    "both). Cover the face shape and the three sections of the face (상정, 중정, 하정) as far as you can, then each "
    "feature, personality, and the four areas career, love, wealth and health. Never comment on attractiveness, "
    "ethnicity, skin colour or disability, and do not guess age, gender or identity from the photo."
)
OLD_DESCRIPTION_EN = "Describe your face shape and features; we read them by traditional Korean physiognomy."
OLD_DESCRIPTION_KO = "얼굴형과 이목구비의 특징을 알려 주시면 전통 관상학으로 풀이합니다."


def add_v2(apps, schema_editor):
    PromptTemplate = apps.get_model("templates", "PromptTemplate")
    Service = apps.get_model("templates", "Service")
    v1 = PromptTemplate.objects.filter(service_type=CODE, version="v1").first()
    if v1 is None or PromptTemplate.objects.filter(service_type=CODE, version="v2").exists():
        return
    parameters = [PHOTO]
    for spec in copy.deepcopy(v1.parameters):
        if spec["name"] in ("eyes", "nose"):  # a photo shows them
            spec.pop("required", None)
        parameters.append(spec)
    rules = v1.system_prompt.split("\n", 1)[1] if "\n" in v1.system_prompt else ""
    activate = v1.is_active and v1.author == "aiplatform"
    if activate:
        PromptTemplate.objects.filter(pk=v1.pk).update(is_active=False)
    PromptTemplate.objects.create(
        service_type=CODE, version="v2", ai_model=v1.ai_model, is_active=activate,
        activated_at=timezone.now() if activate else None, author="aiplatform",
        description="Gwansang from a photo of the face and/or a description: features, personality, four areas.",
        system_prompt=f"{SYSTEM}\n{rules}".strip(),
        user_prompt_template="A photo of the face is attached if the reader sent one.\n" + v1.user_prompt_template,
        parameters=parameters, output_format=v1.output_format, validation_schema=v1.validation_schema,
        temperature=v1.temperature, max_tokens=v1.max_tokens,
    )  # fmt: skip
    Service.objects.filter(service_type=CODE, description_en=OLD_DESCRIPTION_EN).update(
        description_en="Send a photo of your face or describe it; we read it by traditional Korean physiognomy.",
        description_ko="얼굴 사진을 보내거나 특징을 알려 주시면 전통 관상학으로 풀이합니다.",
    )


def remove_v2(apps, schema_editor):
    PromptTemplate = apps.get_model("templates", "PromptTemplate")
    v2 = PromptTemplate.objects.filter(service_type=CODE, version="v2", author="aiplatform").first()
    if v2 is None:
        return
    if v2.is_active:
        PromptTemplate.objects.filter(service_type=CODE, version="v1").update(is_active=True)
    v2.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("templates", "0004_service_inputs_encrypted"),
        ("ai", "0004_accepts_images"),
    ]

    operations = [
        migrations.AlterField(
            model_name="serviceresult",
            name="input_files",
            field=ArrayField(
                base_field=templates.models.fields.EncryptedTextField(),
                blank=True,
                default=list,
                help_text="Storage paths of the files the user sent (a photo), encrypted at rest; never shown.",
                size=None,
            ),
        ),
        migrations.AlterField(
            model_name="serviceresult",
            name="result_files",
            field=ArrayField(
                base_field=models.TextField(),
                blank=True,
                default=list,
                help_text="Storage paths of the files made (images).",
                size=None,
            ),
        ),
        migrations.RunPython(add_v2, remove_v2),
    ]
