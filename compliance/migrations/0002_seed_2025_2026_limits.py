"""The 2025–2026 federal individual limit: $3,500 per candidate per election (primary and
general are separate elections), for U.S. House and Senate candidates; the general election
on 2026-11-03; itemization above $200 per cycle. Staff edit these rows in admin."""

from datetime import date

from django.db import migrations

FEDERAL_LIMIT_CENTS = 350_000


def seed(apps, schema_editor):
    ElectionCycle = apps.get_model("compliance", "ElectionCycle")
    Election = apps.get_model("compliance", "Election")
    ContributionLimit = apps.get_model("compliance", "ContributionLimit")
    cycle, _ = ElectionCycle.objects.get_or_create(
        name="2025–2026",
        defaults={
            "starts_on": date(2025, 1, 1),
            "ends_on": date(2026, 12, 31),
            "itemization_threshold_cents": 20_000,
        },
    )
    Election.objects.get_or_create(
        cycle=cycle, kind="general", state="", defaults={"held_on": date(2026, 11, 3)}
    )
    for office in ("house", "senate"):
        for kind in ("primary", "general"):
            ContributionLimit.objects.get_or_create(
                cycle=cycle,
                office=office,
                election_kind=kind,
                state="",
                defaults={"limit_cents": FEDERAL_LIMIT_CENTS},
            )


def unseed(apps, schema_editor):
    apps.get_model("compliance", "ElectionCycle").objects.filter(name="2025–2026").delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
