"""The ten creator categories of seed 003 (platform rows; operators edit them later)."""

from django.db import migrations

CATEGORIES = [
    ("Business & Entrepreneurship", "Marketing, Sales, Leadership, Startups"),
    ("Health & Fitness", "Workouts, Nutrition, Mental Health, Wellness"),
    ("Personal Development", "Productivity, Motivation, Life Coaching, Mindset"),
    ("Technology & AI", "Tech Reviews, AI News, Programming, Digital Trends"),
    ("Finance & Investing", "Personal Finance, Crypto, Stock Market, Real Estate"),
    ("Lifestyle & Fashion", "Style, Beauty, Home Decor, Travel"),
    ("Food & Cooking", "Recipes, Restaurant Reviews, Nutrition, Cooking Tips"),
    ("Entertainment", "Comedy, Pop Culture, Movies, Music, Gaming"),
    ("Education & Learning", "Tutorials, Science, History, Language Learning"),
    ("Creative Arts", "Art, Photography, Writing, Design, Music Creation"),
]


def seed(apps, schema_editor):
    CreatorCategory = apps.get_model("canvas", "CreatorCategory")
    for order, (name, description) in enumerate(CATEGORIES, start=1):
        CreatorCategory.objects.get_or_create(name=name, defaults={"description": description, "sort_order": order})


def unseed(apps, schema_editor):
    apps.get_model("canvas", "CreatorCategory").objects.filter(name__in=[n for n, _ in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("canvas", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
