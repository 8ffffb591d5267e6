"""AI generation cost to six decimal places: a small call costs less than $0.0001."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("canvas", "0004_media_providers")]

    operations = [
        migrations.AlterField(
            model_name="aigeneration",
            name="cost",
            field=models.DecimalField(decimal_places=6, default=0, max_digits=12),
        ),
    ]
