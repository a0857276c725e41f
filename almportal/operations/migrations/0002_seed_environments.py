from django.db import migrations
from django.utils import timezone

ENVIRONMENTS = [
    ("development", "Development", False, 1),
    ("staging", "Staging", False, 2),
    ("production", "Production", True, 3),
]
SEED_REASON = "Seeded environments"


def seed(apps, schema_editor):
    Environment = apps.get_model("operations", "Environment")
    History = apps.get_model("operations", "HistoricalEnvironment")
    now = timezone.now()
    for slug, name, is_production, order in ENVIRONMENTS:
        env, created = Environment.objects.get_or_create(
            slug=slug, defaults={"name": name, "is_production": is_production, "order": order})
        if created:
            History.objects.create(id=env.pk, slug=slug, name=name, is_production=is_production,
                                   order=order, history_date=now, history_type="+",
                                   history_change_reason=SEED_REASON)


class Migration(migrations.Migration):
    dependencies = [("operations", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
