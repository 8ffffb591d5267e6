"""Keep chunk vectors inline in the table row.

pgvector stores `vector` with EXTERNAL storage, so a chunk row over ~2 kB (a
384-dimensional vector is 1.5 kB, plus the text and its tsvector) had its vector
moved to the TOAST table: an exact scan then read about 20 TOAST pages per 8
rows (measured: 32,075 buffers, 31.9 ms for 8,000 rows). PLAIN keeps the vector
in the row and lets the text and tsvector be TOASTed instead."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE knowledge_chunk ALTER COLUMN embedding SET STORAGE PLAIN",
            "ALTER TABLE knowledge_chunk ALTER COLUMN embedding SET STORAGE EXTERNAL",
        ),
    ]
