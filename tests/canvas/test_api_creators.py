"""/api/v1/creators/ (the platform directory, filters, follow/unfollow),
/api/v1/followed-creators/ and the plan's creator limit, with roles and outsiders."""

from __future__ import annotations

import pytest

from accounts.models import Account
from accounts.tenancy.context import account_context
from canvas.models import AccountFollowedCreator, CreatorCategory
from tests.canvas.factories import CreatorFactory, FollowFactory

pytestmark = pytest.mark.django_db


def _follows(account) -> list[tuple[str, bool]]:
    with account_context(account.id):
        return sorted(
            AccountFollowedCreator.objects.filter(account=account).values_list("creator__username", "is_active")
        )


def _set_creator_limit(account, limit: int) -> None:
    with account_context(account.id):
        Account.objects.filter(pk=account.pk).update(creator_limit=limit)


@pytest.fixture
def directory(db):
    tech = CreatorCategory.objects.get(name="Technology & AI")
    food = CreatorCategory.objects.get(name="Food & Cooking")
    return {
        "techtalk": CreatorFactory(platform="youtube", username="techtalk", display_name="Tech Talk",
                                   follower_count=250_000, category=tech, is_verified=True),
        "chefmina": CreatorFactory(platform="tiktok", username="chefmina", display_name="Chef Mina",
                                   follower_count=80_000, category=food),
        "aibytes": CreatorFactory(platform="tiktok", username="aibytes", display_name="AI Bytes",
                                  follower_count=5_000, category=tech, is_verified=True),
        "newcomer": CreatorFactory(platform="instagram", username="newcomer", follower_count=None),
        "gone": CreatorFactory(platform="youtube", username="gone", follower_count=9_000_000, is_active=False),
        "tech": tech,
    }  # fmt: skip


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["username"] for c in response.json()["results"]]


def test_the_directory_lists_active_creators_most_followed_first(api_client, tenants, directory):
    api_client.force_login(tenants.bob)
    body = api_client.get("/api/v1/creators/").json()
    assert [c["username"] for c in body["results"]] == ["techtalk", "chefmina", "aibytes", "newcomer"]
    first = body["results"][0]
    assert (first["platform"], first["display_name"], first["follower_count"], first["is_verified"]) == (
        "youtube", "Tech Talk", 250_000, True
    )  # fmt: skip
    assert first["category"] == {"id": str(directory["tech"].pk), "name": "Technology & AI"}
    assert first["is_followed"] is False


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("platform=tiktok", ["chefmina", "aibytes"]),
        ("verified=true", ["techtalk", "aibytes"]),
        ("verified=false", ["chefmina", "newcomer"]),
        ("min_followers=10000", ["techtalk", "chefmina"]),
        ("min_followers=1000&max_followers=100000", ["chefmina", "aibytes"]),
        ("search=%40chef", ["chefmina"]),
        ("search=bytes", ["aibytes"]),
        ("search=talk&platform=tiktok", []),
    ],
)
def test_the_directory_filters(api_client, tenants, directory, query, expected):
    api_client.force_login(tenants.bob)
    assert _names(api_client.get(f"/api/v1/creators/?{query}")) == expected


def test_the_directory_filters_by_category(api_client, tenants, directory):
    api_client.force_login(tenants.bob)
    assert _names(api_client.get(f"/api/v1/creators/?category={directory['tech'].pk}")) == ["techtalk", "aibytes"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("min_followers=10&max_followers=5", "max_followers"), ("platform=myspace", "platform"),
     ("min_followers=-1", "min_followers"), ("category=nope", "category")],
)  # fmt: skip
def test_a_bad_filter_is_a_400_naming_the_field(api_client, tenants, directory, query, field):
    api_client.force_login(tenants.bob)
    response = api_client.get(f"/api/v1/creators/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["fields"]


def test_the_categories_are_the_seeds_in_order(api_client, tenants):
    api_client.force_login(tenants.bob)
    names = [c["name"] for c in api_client.get("/api/v1/creator-categories/").json()]
    assert names[:3] == ["Business & Entrepreneurship", "Health & Fitness", "Personal Development"]
    assert len(names) == 10


def test_a_member_follows_and_unfollows_a_creator(api_client, tenants, directory):
    api_client.force_login(tenants.bob)
    creator = directory["chefmina"]
    # when bob follows
    created = api_client.post(f"/api/v1/creators/{creator.pk}/follow/")
    # then the follow is recorded for account A, by bob
    assert created.status_code == 201
    assert (created.json()["creator"]["username"], created.json()["followed_by"]["email"]) == (
        "chefmina", "bob@example.com"
    )  # fmt: skip
    assert created.json()["creator"]["is_followed"] is True
    assert _follows(tenants.a) == [("chefmina", True)]
    # following again changes nothing
    assert api_client.post(f"/api/v1/creators/{creator.pk}/follow/").status_code == 200
    assert api_client.get("/api/v1/followed-creators/").json()["count"] == 1
    # unfollowing keeps the row, inactive
    assert api_client.delete(f"/api/v1/creators/{creator.pk}/follow/").status_code == 204
    assert _follows(tenants.a) == [("chefmina", False)]
    assert api_client.get("/api/v1/followed-creators/").json()["count"] == 0
    assert api_client.delete(f"/api/v1/creators/{creator.pk}/follow/").status_code == 404


def test_following_past_the_plans_creator_limit_is_a_409_and_changes_nothing(api_client, tenants, directory):
    # given account A's plan allows 2 creators, and it follows 2
    _set_creator_limit(tenants.a, 2)
    api_client.force_login(tenants.bob)
    for name in ("techtalk", "chefmina"):
        assert api_client.post("/api/v1/followed-creators/", {"creator": str(directory[name].pk)}).status_code == 201
    # when bob follows a third
    response = api_client.post(f"/api/v1/creators/{directory['aibytes'].pk}/follow/")
    # then a 409 names the limit and the count, and nothing changed
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["limit"], error["used"], error["name"]) == ("plan_limit_reached", 2, 2, "creators")
    assert error["message"] == (
        "Your plan allows 2 creators; 2 are in use. Upgrade the plan or free some up to continue."
    )
    assert _follows(tenants.a) == [("chefmina", True), ("techtalk", True)]
    # and after unfollowing one, the third fits
    follow_id = next(
        f["id"] for f in api_client.get("/api/v1/followed-creators/").json()["results"]
        if f["creator"]["username"] == "techtalk"
    )  # fmt: skip
    assert api_client.delete(f"/api/v1/followed-creators/{follow_id}/").status_code == 204
    assert api_client.post(f"/api/v1/creators/{directory['aibytes'].pk}/follow/").status_code == 201
    assert _follows(tenants.a) == [("aibytes", True), ("chefmina", True), ("techtalk", False)]


def test_refollowing_counts_against_the_limit_too(api_client, tenants, directory):
    _set_creator_limit(tenants.a, 1)
    FollowFactory(account=tenants.a, creator=directory["techtalk"], is_active=False)
    FollowFactory(account=tenants.a, creator=directory["chefmina"])
    api_client.force_login(tenants.bob)
    response = api_client.post(f"/api/v1/creators/{directory['techtalk'].pk}/follow/")
    assert response.status_code == 409
    assert _follows(tenants.a) == [("chefmina", True), ("techtalk", False)]


def test_a_viewer_browses_but_cannot_follow(api_client, tenants, directory, vera):
    api_client.force_login(vera)
    assert api_client.get("/api/v1/creators/").status_code == 200
    response = api_client.post(f"/api/v1/creators/{directory['chefmina'].pk}/follow/")
    assert response.status_code == 403
    assert api_client.post("/api/v1/followed-creators/", {"creator": str(directory["chefmina"].pk)}).status_code == 403
    assert _follows(tenants.a) == []


def test_follows_are_per_account(api_client, tenants, directory):
    # given account B follows chefmina
    theirs = FollowFactory(account=tenants.b, creator=directory["chefmina"])
    api_client.force_login(tenants.bob)
    # then A does not see it as followed, nor in its follows, nor can it unfollow B's row
    chef = next(c for c in api_client.get("/api/v1/creators/").json()["results"] if c["username"] == "chefmina")
    assert chef["is_followed"] is False
    assert api_client.get("/api/v1/followed-creators/").json()["count"] == 0
    assert api_client.get(f"/api/v1/followed-creators/{theirs.pk}/").status_code == 404
    assert api_client.delete(f"/api/v1/followed-creators/{theirs.pk}/").status_code == 404
    assert _follows(tenants.b) == [("chefmina", True)]


def test_an_inactive_or_unknown_creator_is_a_404(api_client, tenants, directory):
    api_client.force_login(tenants.bob)
    assert api_client.get(f"/api/v1/creators/{directory['gone'].pk}/").status_code == 404
    assert api_client.post(f"/api/v1/creators/{directory['gone'].pk}/follow/").status_code == 404
    assert api_client.post("/api/v1/followed-creators/", {"creator": "not-a-uuid"}).status_code == 400
    assert _follows(tenants.a) == []


def test_signed_out_is_a_401_or_403(api_client, directory):
    assert api_client.get("/api/v1/creators/").status_code in (401, 403)
