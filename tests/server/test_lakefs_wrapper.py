"""The high-level ``lakefs`` client against the server: the flows users write."""

from __future__ import annotations

import secrets

import lakefs
import pytest
from lakefs.exceptions import ConflictException, NotFoundException, ObjectExistsException


@pytest.fixture
def client(lakefs_server) -> lakefs.Client:
    return lakefs.Client(
        host=lakefs_server.endpoint,
        username=lakefs_server.access_key_id,
        password=lakefs_server.secret_access_key,
    )


@pytest.fixture
def repo(client) -> lakefs.Repository:
    name = f"wrap-{secrets.token_hex(5)}"
    return lakefs.Repository(name, client=client).create(storage_namespace=f"local://{name}")


def test_objects_writer_reader_and_commit(repo):
    main = repo.branch("main")
    with main.object("data/a.txt").writer(mode="w", metadata={"source": "test"}) as writer:
        writer.write("line 1\nline 2\n")
    obj = main.object("data/a.txt")
    assert obj.exists()
    stat = obj.stat()
    assert stat.size_bytes == 14 and stat.metadata == {"source": "test"}
    with obj.reader(mode="r") as reader:
        assert reader.readline() == "line 1\n"
    with obj.reader() as reader:
        reader.seek(7)
        assert reader.read(4) == b"line"
        assert reader.read() == b" 2\n"
    assert [c.path for c in main.uncommitted()] == ["data/a.txt"]
    ref = main.commit(message="add a", metadata={"k": "v"})
    commit = ref.get_commit()
    assert commit.message == "add a" and commit.metadata == {"k": "v"}
    assert [o.path for o in main.objects()] == ["data/a.txt"]
    assert not main.object("missing").exists()


def test_exclusive_create_raises_when_object_exists(repo):
    main = repo.branch("main")
    main.object("x").upload(data=b"1", mode="xb")
    with pytest.raises(ObjectExistsException):
        main.object("x").upload(data=b"2", mode="xb")
    assert main.object("x").reader().read() == b"1"


def test_branches_tags_merge_revert_and_log(repo):
    main = repo.branch("main")
    main.object("model.pkl").upload(data=b"v1")
    v1 = main.commit(message="model v1")
    dev = repo.branch("dev").create(source_reference="main")
    dev.object("model.pkl").upload(data=b"v2")
    dev.commit(message="model v2")
    assert [c.path for c in main.diff(dev)] == ["model.pkl"]
    dev.merge_into(main, message="ship v2")
    assert main.object("model.pkl").reader().read() == b"v2"
    tag = repo.tag("v1").create(v1)
    assert tag.get_commit().id == v1.get_commit().id
    bad = main.get_commit()
    main.revert(bad, parent_number=1)
    assert main.object("model.pkl").reader().read() == b"v1"
    messages = [c.message for c in main.log(max_amount=3)]
    assert messages[0].startswith("Revert") and messages[1] == "ship v2"
    assert {b.id for b in repo.branches()} == {"main", "dev"}
    assert [t.id for t in repo.tags()] == ["v1"]
    with pytest.raises(ConflictException):
        repo.tag("v1").create(main)
    dev.delete()
    with pytest.raises(NotFoundException):
        repo.branch("dev").get_commit()


def test_reset_changes_and_delete_objects(repo):
    main = repo.branch("main")
    for name in ("a", "b", "c"):
        main.object(name).upload(data=name.encode())
    main.commit(message="abc")
    main.delete_objects(["a", "b"])
    assert [o.path for o in main.objects()] == ["c"]
    main.reset_changes()
    assert [o.path for o in main.objects()] == ["a", "b", "c"]
