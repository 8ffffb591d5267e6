"""AI platform analysis: a page imported by URL (or from a connected platform)
is audited through the gateway as schema-valid JSON; credits are held then
settled, cost and time recorded; an invalid answer charges nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from billing.models import Reservation, Wallet
from canvas.models import PlatformAnalysis
from canvas.services.analyses import analysis_request
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db

AUDIT = {
    "summary": {"headline": "Clear offer, weak proof", "score": 64, "strengths": ["One call to action"],
                "weaknesses": ["No testimonials"]},
    "recommendations": [{"title": "Add testimonials", "detail": "Three short quotes under the form.",
                         "priority": "high", "area": "trust"}],
}  # fmt: skip


@pytest.fixture
def analysis_model(chat_model, settings):
    settings.BUILDER_ANALYSIS_MODEL = "test-model"
    settings.BUILDER_ANALYSIS_HOLD = "5"
    return chat_model


def _analysis(pk, account):
    with account_context(account.id):
        return PlatformAnalysis.objects.get(pk=pk)


def _wallet(account):
    with account_context(account.id):
        w = Wallet.objects.get(account=account)
    return w.balance, w.reserved


def test_a_page_imported_by_url_gets_a_full_audit_with_cost_and_time(tenants, fake, analysis_model, model_server,
                                                                     run_jobs):  # fmt: skip
    # given
    fund(tenants.a, "50")
    model_server.reply(json.dumps(AUDIT))
    # when
    with run_jobs():
        analysis = analysis_request(account=tenants.a, actor=tenants.alice_membership, analysis_type="full_audit",
                                    source_url=fake.page_url("/landing"))  # fmt: skip
    # then
    row = _analysis(analysis.pk, tenants.a)
    assert row.status == "completed", row.error_message
    assert row.summary["score"] == 64 and row.recommendations[0]["title"] == "Add testimonials"
    # $0.15/$0.60 per million tokens: a few hundred tokens round to 0.0000 at the seed's 4 decimals
    assert row.ai_model_used == "test-model" and row.ai_cost >= 0 and row.credits_charged > 0
    assert row.processing_time_seconds is not None
    balance, reserved = _wallet(tenants.a)
    assert reserved == 0 and balance == Decimal("50") - row.credits_charged
    sent = model_server.requests[-1]["messages"][-1]["content"]
    assert "Yoga for beginners" in sent and "Old landing page" in sent


def test_an_answer_that_never_fits_the_schema_fails_and_charges_nothing(tenants, fake, analysis_model, model_server,
                                                                       run_jobs):  # fmt: skip
    fund(tenants.a, "50")
    model_server.reply(json.dumps({"summary": "not an object"}), times=2)
    with run_jobs():
        analysis = analysis_request(account=tenants.a, actor=tenants.alice_membership, analysis_type="full_audit",
                                    source_url=fake.page_url("/landing"))  # fmt: skip
    row = _analysis(analysis.pk, tenants.a)
    assert row.status == "failed" and "expected form" in row.error_message
    assert _wallet(tenants.a) == (Decimal("50"), Decimal("0"))
    with account_context(tenants.a.id):
        assert list(Reservation.objects.values_list("status", flat=True)) == ["released"]


def test_an_analysis_needs_its_hold_covered(tenants, fake, analysis_model):
    from aiplatform.errors import InsufficientCredits

    with pytest.raises(InsufficientCredits):
        analysis_request(account=tenants.a, actor=tenants.alice_membership, analysis_type="migration_assessment",
                         source_url=fake.page_url("/landing"))  # fmt: skip
    with account_context(tenants.a.id):
        assert not PlatformAnalysis.objects.exists()


MIGRATION = {
    "summary": {"headline": "Simple page, easy move", "score": 71},
    "migration_assessment": {"complexity": "low", "estimated_hours": 3.5,
                             "steps": ["Rebuild the hero", "Move the form"], "risks": ["Old form plugin"]},
    "recommendations": [{"title": "Keep the URL", "detail": "Redirect /pricing to the new page.", "priority": "high"}],
}  # fmt: skip


def test_a_page_of_a_connected_wordpress_gets_a_migration_assessment(tenants, fake, analysis_model, model_server,
                                                                     run_jobs):  # fmt: skip
    # given a WordPress site with a page, connected to account A
    from tests.canvas.integrations.test_publishing import _wordpress

    fund(tenants.a, "50")
    integration = _wordpress(tenants, fake)
    fake.wp_pages[41] = {"id": 41, "title": "Old pricing page", "slug": "pricing", "status": "publish",
                         "content": "<h1>Pricing</h1><p>Plans from 9 dollars a month.</p>",
                         "link": f"{fake.wordpress_url}/pricing/", "modified_gmt": "2026-11-30T10:00:00"}  # fmt: skip
    model_server.reply(json.dumps(MIGRATION))
    # when the page is analysed through the integration
    with run_jobs():
        analysis = analysis_request(account=tenants.a, actor=tenants.alice_membership,
                                    analysis_type="migration_assessment", integration_id=integration.pk,
                                    source_ref="41")  # fmt: skip
    # then the page was read with the site's credentials and assessed
    row = _analysis(analysis.pk, tenants.a)
    assert row.status == "completed", row.error_message
    assert row.migration_assessment["complexity"] == "low" and row.migration_assessment["estimated_hours"] == 3.5
    assert row.summary["score"] == 71 and row.credits_charged > 0
    assert fake.calls("wp.page_get")[-1].path.endswith("/pages/41")
    sent = model_server.requests[-1]["messages"][-1]["content"]
    assert "Old pricing page" in sent and "Plans from 9 dollars" in sent
    assert _wallet(tenants.a) == (Decimal("50") - row.credits_charged, Decimal("0"))


def test_a_campaign_analysis_of_a_missing_wordpress_page_fails_and_charges_nothing(tenants, fake, analysis_model,
                                                                                   model_server, run_jobs):  # fmt: skip
    from tests.canvas.integrations.test_publishing import _wordpress

    fund(tenants.a, "50")
    integration = _wordpress(tenants, fake)
    with run_jobs():
        analysis = analysis_request(account=tenants.a, actor=tenants.alice_membership,
                                    analysis_type="campaign_analysis", integration_id=integration.pk,
                                    source_ref="999")  # fmt: skip
    row = _analysis(analysis.pk, tenants.a)
    assert row.status == "failed" and row.error_message
    assert _wallet(tenants.a) == (Decimal("50"), Decimal("0"))
    assert model_server.requests == []  # nothing to analyse: the model was never asked
