"""The canvas list endpoints cost the same number of queries for 3 rows as for
30 (no N+1), pinned at their current count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.canvas.factories import CollaboratorFactory, CreatorFactory, FollowFactory, ProjectFactory

pytestmark = pytest.mark.django_db

# User (session), savepoint, user context, active membership, tenant context,
# COUNT, the page, release; + the api_usage_logs row.
PINNED = {
    "/api/v1/creators/": 9,
    "/api/v1/followed-creators/": 9,
    "/api/v1/projects/": 9,
    "/api/v1/project-collaborators/": 9,
}


def _fill(tenants, rows: int) -> None:
    for _ in range(rows):
        FollowFactory(account=tenants.a, creator=CreatorFactory(), followed_by=tenants.bob)
        project = ProjectFactory(account=tenants.a, created_by=tenants.bob)
        CollaboratorFactory(project=project, user=tenants.alice, added_by=tenants.bob)


def _queries(client, url: str) -> tuple[int, int]:
    client.get(url)  # warm up: the first request of a user also records its last activity
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response.json()["count"]


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(("url", "per_row"), [
    ("/api/v1/creators/", 1), ("/api/v1/followed-creators/", 1), ("/api/v1/projects/", 1),
    ("/api/v1/project-collaborators/", 2),  # bob, the owner, and alice
])  # fmt: skip
def test_list_query_count_does_not_grow_with_rows(api_client, tenants, rows, url, per_row):
    # given `rows` followed creators and projects of bob's, each with alice as a collaborator
    _fill(tenants, rows)
    api_client.force_login(tenants.bob)
    # when bob lists, then the count of queries is the pinned constant
    assert _queries(api_client, url) == (PINNED[url], rows * per_row)
