"""Decision units, documents, chunks (pgvector HNSW, cosine; full-text GIN) and
staged chunks, every table under row-level security."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
import knowledge.models.documents
import pgvector.django.indexes
import pgvector.django.vector
import uuid
from django.conf import settings
from django.db import migrations, models

from accounts.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0002_row_level_security'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DecisionUnit',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=200)),
                ('description', models.TextField(blank=True)),
                ('status', models.CharField(choices=[('processing', 'Processing'), ('active', 'Active'), ('error', 'Error')], default='active', max_length=20)),
                ('embedding_model', models.CharField(help_text='Registry name of the embedding model; changing it re-embeds every document.', max_length=100)),
                ('vector_weight', models.FloatField(default=1.0)),
                ('text_weight', models.FloatField(default=1.0)),
                ('chunk_count', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Document',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('name', models.CharField(help_text="The uploaded file's name.", max_length=255)),
                ('file', models.FileField(blank=True, max_length=500, upload_to=knowledge.models.documents.document_upload_to)),
                ('size', models.BigIntegerField(help_text='Bytes.')),
                ('sha256', models.CharField(max_length=64)),
                ('mime_type', models.CharField(blank=True, max_length=100)),
                ('kind', models.CharField(choices=[('pdf', 'PDF'), ('docx', 'Word'), ('csv', 'CSV'), ('xlsx', 'Excel'), ('txt', 'Text'), ('md', 'Markdown'), ('html', 'HTML'), ('unknown', 'Unsupported')], max_length=10)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('parsing', 'Parsing'), ('splitting', 'Splitting'), ('embedding', 'Embedding'), ('indexing', 'Indexing'), ('done', 'Done'), ('error', 'Error'), ('paused', 'Paused'), ('cancelled', 'Cancelled')], default='queued', max_length=20)),
                ('error', models.TextField(blank=True, help_text='Why ingestion failed, in words the user understands.')),
                ('embedding_model', models.CharField(blank=True, help_text='Model of the indexed chunks.', max_length=100)),
                ('chunks_total', models.PositiveIntegerField(default=0)),
                ('chunks_embedded', models.PositiveIntegerField(default=0)),
                ('chunk_count', models.PositiveIntegerField(default=0, help_text='Indexed (searchable) chunks.')),
                ('run_id', models.UUIDField(blank=True, null=True)),
                ('queued_at', models.DateTimeField(blank=True, null=True)),
                ('parsing_started_at', models.DateTimeField(blank=True, null=True)),
                ('splitting_started_at', models.DateTimeField(blank=True, null=True)),
                ('embedding_started_at', models.DateTimeField(blank=True, null=True)),
                ('indexing_started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='documents', to='knowledge.decisionunit')),
                ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Chunk',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('position', models.PositiveIntegerField(help_text='Order of the chunk within its document, from 0.')),
                ('page', models.PositiveIntegerField(blank=True, help_text='PDF page or spreadsheet sheet, from 1.', null=True)),
                ('row', models.PositiveIntegerField(blank=True, help_text='First CSV/XLSX data row, from 1.', null=True)),
                ('row_end', models.PositiveIntegerField(blank=True, help_text='Last data row in the chunk.', null=True)),
                ('section', models.CharField(blank=True, help_text='Sheet name, for citations.', max_length=200)),
                ('char_offset', models.PositiveIntegerField(default=0, help_text='Start within its page, row or text.')),
                ('token_count', models.PositiveIntegerField(default=0)),
                ('text', models.TextField()),
                ('model', models.CharField(help_text='Registry name of the embedding model.', max_length=100)),
                ('embedding', pgvector.django.vector.VectorField(dimensions=384)),
                ('search_vector', models.GeneratedField(db_persist=True, expression=django.contrib.postgres.search.SearchVector('text', config='english'), output_field=django.contrib.postgres.search.SearchVectorField())),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='knowledge.decisionunit')),
                ('document', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='knowledge.document')),
            ],
            options={
                'ordering': ['document', 'position'],
            },
        ),
        migrations.CreateModel(
            name='StagedChunk',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('position', models.PositiveIntegerField(help_text='Order of the chunk within its document, from 0.')),
                ('page', models.PositiveIntegerField(blank=True, help_text='PDF page or spreadsheet sheet, from 1.', null=True)),
                ('row', models.PositiveIntegerField(blank=True, help_text='First CSV/XLSX data row, from 1.', null=True)),
                ('row_end', models.PositiveIntegerField(blank=True, help_text='Last data row in the chunk.', null=True)),
                ('section', models.CharField(blank=True, help_text='Sheet name, for citations.', max_length=200)),
                ('char_offset', models.PositiveIntegerField(default=0, help_text='Start within its page, row or text.')),
                ('token_count', models.PositiveIntegerField(default=0)),
                ('text', models.TextField()),
                ('model', models.CharField(help_text='Registry name of the embedding model.', max_length=100)),
                ('embedding', pgvector.django.vector.VectorField(dimensions=384)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account')),
                ('document', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='knowledge.document')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='knowledge.decisionunit')),
            ],
            options={
                'ordering': ['document', 'position'],
            },
        ),
        migrations.AddIndex(
            model_name='decisionunit',
            index=models.Index(fields=['account', 'name'], name='knowledge_d_account_245fb9_idx'),
        ),
        migrations.AddConstraint(
            model_name='decisionunit',
            constraint=models.CheckConstraint(condition=models.Q(('text_weight__gte', 0), ('vector_weight__gte', 0), models.Q(('vector_weight__gt', 0), ('text_weight__gt', 0), _connector='OR')), name='knowledge_unit_weights_valid'),
        ),
        migrations.AddIndex(
            model_name='document',
            index=models.Index(fields=['account', 'unit', '-created_at'], name='knowledge_d_account_e4842b_idx'),
        ),
        migrations.AddIndex(
            model_name='document',
            index=models.Index(fields=['status'], name='knowledge_doc_status_idx'),
        ),
        migrations.AddConstraint(
            model_name='document',
            constraint=models.UniqueConstraint(fields=('unit', 'sha256'), name='knowledge_document_unique_file_per_unit'),
        ),
        migrations.AddIndex(
            model_name='chunk',
            index=pgvector.django.indexes.HnswIndex(ef_construction=128, fields=['embedding'], m=16, name='knowledge_chunk_embedding_hnsw', opclasses=['vector_cosine_ops']),
        ),
        migrations.AddIndex(
            model_name='chunk',
            index=django.contrib.postgres.indexes.GinIndex(fields=['search_vector'], name='knowledge_chunk_text_gin'),
        ),
        migrations.AddIndex(
            model_name='chunk',
            index=models.Index(fields=['account', 'unit', 'model'], name='knowledge_chunk_scope_idx'),
        ),
        migrations.AddConstraint(
            model_name='chunk',
            constraint=models.UniqueConstraint(fields=('document', 'position', 'model'), name='knowledge_chunk_unique_position'),
        ),
        migrations.AddConstraint(
            model_name='stagedchunk',
            constraint=models.UniqueConstraint(fields=('document', 'position', 'model'), name='knowledge_staged_unique_position'),
        ),
        EnableTenantRLS("DecisionUnit"),
        EnableTenantRLS("Document"),
        EnableTenantRLS("Chunk"),
        EnableTenantRLS("StagedChunk"),
    ]
