"""Repositories, configuration and authentication, through lakefs-sdk."""

from __future__ import annotations

import secrets

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException


def _name() -> str:
    return f"repo-{secrets.token_hex(5)}"


def test_create_repository_makes_default_branch_with_initial_commit(api):
    name = _name()
    repo = api.repos.create_repository(
        lakefs_sdk.RepositoryCreation(
            name=name, storage_namespace=f"local://{name}", default_branch="trunk"
        )
    )
    assert (repo.id, repo.default_branch, repo.storage_namespace) == (
        name,
        "trunk",
        f"local://{name}",
    )
    assert isinstance(repo.creation_date, int)
    head = api.branches.get_branch(name, "trunk")
    commit = api.commits.get_commit(name, head.commit_id)
    assert commit.message == "Repository created"
    assert commit.parents == []
    assert len(commit.id) == 64 and int(commit.id, 16) >= 0
    assert api.repos.get_repository(name) == repo


def test_bare_repository_has_no_branch(api):
    name = _name()
    api.repos.create_repository(
        lakefs_sdk.RepositoryCreation(name=name, storage_namespace="local://x"), bare=True
    )
    assert api.branches.list_branches(name).results == []


@pytest.mark.parametrize("bad", ["ab", "Upper", "-dash-first", "under_score", "x" * 64])
def test_invalid_repository_name_is_400(api, bad):
    with pytest.raises(ApiException) as err:
        api.repos.create_repository(
            lakefs_sdk.RepositoryCreation.construct(name=bad, storage_namespace="local://x")
        )
    assert err.value.status == 400
    assert "repository name" in err.value.body


def test_existing_repository_is_409_and_missing_is_404(api, repo_name):
    with pytest.raises(ApiException) as err:
        api.repos.create_repository(
            lakefs_sdk.RepositoryCreation(name=repo_name, storage_namespace="local://x")
        )
    assert err.value.status == 409
    with pytest.raises(ApiException) as err:
        api.repos.get_repository("does-not-exist")
    assert err.value.status == 404
    assert '"message"' in err.value.body


def test_missing_body_field_is_400_with_message(api):
    response = api.request(
        "POST",
        "/repositories",
        body=b'{"name": "abc-def"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400
    assert "storage_namespace" in response.json()["message"]


def test_list_repositories_paginates_and_delete_removes(api):
    prefix = f"pg{secrets.token_hex(3)}"
    names = [f"{prefix}-{i:02d}" for i in range(5)]
    for name in names:
        api.repos.create_repository(
            lakefs_sdk.RepositoryCreation(name=name, storage_namespace="local://x")
        )
    first = api.repos.list_repositories(prefix=prefix, amount=2)
    assert [r.id for r in first.results] == names[:2]
    assert first.pagination.has_more and first.pagination.next_offset == names[1]
    assert first.pagination.max_per_page == 1000
    rest = api.repos.list_repositories(prefix=prefix, after=first.pagination.next_offset)
    assert [r.id for r in rest.results] == names[2:]
    assert not rest.pagination.has_more and rest.pagination.next_offset == ""
    api.repos.delete_repository(names[0])
    with pytest.raises(ApiException) as err:
        api.repos.get_repository(names[0])
    assert err.value.status == 404
    with pytest.raises(ApiException) as err:
        api.repos.delete_repository(names[0])
    assert err.value.status == 404


def test_config_matches_sdk_models(api):
    config = api.config.get_config()
    assert config.storage_config.pre_sign_support is False
    assert config.storage_config.blockstore_type == "local"
    assert config.version_config.version
    internal = lakefs_sdk.InternalApi(api.client)
    assert internal.get_storage_config().blockstore_type == "local"
    assert internal.get_lake_fs_version().version == config.version_config.version


def test_healthcheck_is_open_and_api_needs_credentials(api):
    response = api.http.request("GET", f"{api.server.endpoint}/api/v1/healthcheck")
    assert response.status == 204
    no_auth = api.http.request("GET", f"{api.server.endpoint}/api/v1/repositories")
    assert no_auth.status == 401
    assert no_auth.json()["message"]
    wrong = api.http.request(
        "GET",
        f"{api.server.endpoint}/api/v1/repositories",
        headers=api.auth_headers(secret="not-the-secret"),
    )
    assert wrong.status == 401
    bogus = api.http.request(
        "GET",
        f"{api.server.endpoint}/api/v1/config",
        headers={"Authorization": "Basic !!!not-base64"},
    )
    assert bogus.status == 401


def test_sdk_with_wrong_secret_gets_401(lakefs_server):
    configuration = lakefs_sdk.Configuration(
        host=f"{lakefs_server.endpoint}/api/v1",
        username=lakefs_server.access_key_id,
        password="wrong",
    )
    with lakefs_sdk.ApiClient(configuration) as client, pytest.raises(ApiException) as err:
        lakefs_sdk.RepositoriesApi(client).list_repositories()
    assert err.value.status == 401


def test_unknown_route_is_404_json(api):
    response = api.request("GET", "/no/such/route")
    assert response.status == 404
    assert "message" in response.json()


def test_storage_id_is_the_single_blockstores_empty_id(api):
    name = f"sid-{secrets.token_hex(4)}"
    creation = lakefs_sdk.RepositoryCreation(
        name=name, storage_namespace="local://x", storage_id=""
    )
    assert api.repos.create_repository(creation).storage_id == ""
    assert api.repos.get_repository(name).storage_id == ""
    bad = lakefs_sdk.RepositoryCreation(
        name=name + "b", storage_namespace="local://y", storage_id="s3"
    )
    with pytest.raises(ApiException) as err:
        api.repos.create_repository(bad)
    assert err.value.status == 400


def test_sample_data_is_refused_after_the_existence_check(api, repo_name):
    with pytest.raises(ApiException) as err:
        api.repos.create_repository(
            lakefs_sdk.RepositoryCreation(
                name=repo_name, storage_namespace="local://s", sample_data=True
            )
        )
    assert err.value.status == 409  # lakefs clients' exist_ok relies on this order
    with pytest.raises(ApiException) as err:
        api.repos.create_repository(
            lakefs_sdk.RepositoryCreation(
                name=repo_name + "-new", storage_namespace="local://s", sample_data=True
            )
        )
    assert err.value.status == 400 and "sample_data" in err.value.body
