"""Which chat models read images (issue 11: face reading from a photo). The seeded
GPT-4o models and Claude Sonnet 4 are vision models; the offline model accepts
images only to say plainly that it cannot see them."""

from django.db import migrations, models

VISION = ("gpt-4o-mini", "gpt-4o", "claude-sonnet-4", "local-assistant")


def mark(apps, schema_editor):
    apps.get_model("ai", "AiModel").objects.filter(name__in=VISION, kind="chat").update(accepts_images=True)


class Migration(migrations.Migration):
    dependencies = [("ai", "0003_local_embedding_model")]

    operations = [
        migrations.AddField(
            model_name="aimodel",
            name="accepts_images",
            field=models.BooleanField(
                default=False,
                help_text="Chat models: reads images sent with a message (a vision model). The offline model "
                "accepts them only to say that it cannot see them.",
            ),
        ),
        migrations.RunPython(mark, migrations.RunPython.noop),
    ]
