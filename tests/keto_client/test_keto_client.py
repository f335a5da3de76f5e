"""zanzi serve driven by Ory's official Python SDK (ory-keto-client), unchanged.

run.sh starts the server and sets KETO_READ_URL and KETO_WRITE_URL.
"""
import os
import uuid

import pytest
import ory_keto_client
from ory_keto_client.api.permission_api import PermissionApi
from ory_keto_client.api.relationship_api import RelationshipApi
from ory_keto_client.exceptions import ApiException, ForbiddenException
from ory_keto_client.models.batch_check_permission_body import BatchCheckPermissionBody
from ory_keto_client.models.create_relationship_body import CreateRelationshipBody
from ory_keto_client.models.post_check_permission_body import PostCheckPermissionBody
from ory_keto_client.models.relationship import Relationship
from ory_keto_client.models.relationship_patch import RelationshipPatch
from ory_keto_client.models.subject_set import SubjectSet

READ_URL = os.environ["KETO_READ_URL"]
WRITE_URL = os.environ["KETO_WRITE_URL"]


def client(url):
    return ory_keto_client.ApiClient(ory_keto_client.Configuration(host=url))


@pytest.fixture
def read():
    with client(READ_URL) as c:
        yield c


@pytest.fixture
def write():
    with client(WRITE_URL) as c:
        yield c


@pytest.fixture
def doc():
    """A fresh document id per test, so tests do not see each other's data."""
    return "doc-" + uuid.uuid4().hex[:8]


def create(write, **fields):
    return RelationshipApi(write).create_relationship(
        create_relationship_body=CreateRelationshipBody(**fields)
    )


def test_create_mirrors_the_payload(write, doc):
    created = create(write, namespace="document", object=doc, relation="viewer", subject_id="alice")
    assert isinstance(created, Relationship)
    assert (created.namespace, created.object, created.relation, created.subject_id) == (
        "document",
        doc,
        "viewer",
        "alice",
    )
    assert created.subject_set is None


def test_check_allowed_and_denied(read, write, doc):
    create(write, namespace="document", object=doc, relation="viewer", subject_id="alice")
    api = PermissionApi(read)
    assert api.check_permission(
        namespace="document", object=doc, relation="view", subject_id="alice"
    ).allowed
    assert not api.check_permission(
        namespace="document", object=doc, relation="view", subject_id="bob"
    ).allowed
    # The 403 variant: allowed answers normally, denied raises.
    assert api.check_permission_or_error(
        namespace="document", object=doc, relation="view", subject_id="alice"
    ).allowed
    with pytest.raises(ForbiddenException):
        api.check_permission_or_error(
            namespace="document", object=doc, relation="view", subject_id="bob"
        )
    body = PostCheckPermissionBody(namespace="document", object=doc, relation="view", subject_id="alice")
    assert api.post_check_permission(post_check_permission_body=body).allowed
    assert api.check_permission(
        namespace="document", object=doc, relation="view", subject_id="alice", max_depth=5
    ).allowed


def test_subject_sets_and_inheritance(read, write, doc):
    team = "team-" + doc
    folder = "folder-" + doc
    create(write, namespace="group", object=team, relation="member", subject_id="carol")
    create(
        write,
        namespace="folder",
        object=folder,
        relation="viewer",
        subject_set=SubjectSet(namespace="group", object=team, relation="member"),
    )
    create(write, namespace="document", object=doc, relation="parent", subject_id="folder:" + folder)
    api = PermissionApi(read)
    assert api.check_permission(namespace="document", object=doc, relation="view", subject_id="carol").allowed
    assert not api.check_permission(namespace="document", object=doc, relation="edit", subject_id="carol").allowed
    results = api.batch_check_permission(
        batch_check_permission_body=BatchCheckPermissionBody(
            tuples=[
                Relationship(namespace="document", object=doc, relation="view", subject_id="carol"),
                Relationship(namespace="document", object=doc, relation="view", subject_id="mallory"),
            ]
        )
    ).results
    assert [r.allowed for r in results] == [True, False]


def test_list_with_pagination(read, write, doc):
    for i in range(7):
        create(write, namespace="document", object=doc, relation="viewer", subject_id=f"user{i}")
    api = RelationshipApi(read)
    seen, token, pages = [], None, 0
    while True:
        page = api.get_relationships(namespace="document", object=doc, page_size=3, page_token=token)
        pages += 1
        seen += [t.subject_id for t in page.relation_tuples]
        if page.next_page_token == "":
            break
        token = page.next_page_token
    assert pages == 3
    assert sorted(seen) == [f"user{i}" for i in range(7)]
    # Filters.
    only = api.get_relationships(namespace="document", object=doc, subject_id="user3")
    assert [t.subject_id for t in only.relation_tuples] == ["user3"]
    assert only.next_page_token == ""
    none = api.get_relationships(namespace="document", object=doc + "-nothing")
    assert none.relation_tuples == []


def test_expand(read, write, doc):
    team = "team-" + doc
    create(write, namespace="document", object=doc, relation="viewer", subject_id="alice")
    create(
        write,
        namespace="document",
        object=doc,
        relation="viewer",
        subject_set=SubjectSet(namespace="group", object=team, relation="member"),
    )
    create(write, namespace="group", object=team, relation="member", subject_id="dave")
    tree = PermissionApi(read).expand_permissions(namespace="document", object=doc, relation="viewer", max_depth=3)
    assert tree.type == "union"
    leaves = []

    def walk(node):
        if node.type == "leaf" and node.tuple is not None and node.tuple.subject_id:
            leaves.append(node.tuple.subject_id)
        for child in node.children or []:
            walk(child)

    walk(tree)
    assert sorted(leaves) == ["alice", "dave"]


def test_patch_is_all_or_nothing(read, write, doc):
    api = RelationshipApi(write)
    api.patch_relationships(
        relationship_patch=[
            RelationshipPatch(
                action="insert",
                relation_tuple=Relationship(namespace="document", object=doc, relation="owner", subject_id="erin"),
            ),
            RelationshipPatch(
                action="insert",
                relation_tuple=Relationship(namespace="document", object=doc, relation="viewer", subject_id="frank"),
            ),
        ]
    )
    check = PermissionApi(read).check_permission
    assert check(namespace="document", object=doc, relation="edit", subject_id="erin").allowed
    api.patch_relationships(
        relationship_patch=[
            RelationshipPatch(
                action="delete",
                relation_tuple=Relationship(namespace="document", object=doc, relation="owner", subject_id="erin"),
            ),
        ]
    )
    assert not check(namespace="document", object=doc, relation="edit", subject_id="erin").allowed
    # One bad delta (a permission as the target): nothing is written.
    with pytest.raises(ApiException) as failure:
        api.patch_relationships(
            relationship_patch=[
                RelationshipPatch(
                    action="insert",
                    relation_tuple=Relationship(namespace="document", object=doc, relation="viewer", subject_id="gina"),
                ),
                RelationshipPatch(
                    action="insert",
                    relation_tuple=Relationship(namespace="document", object=doc, relation="view", subject_id="gina"),
                ),
            ]
        )
    assert failure.value.status == 422
    assert "is a permission" in failure.value.body
    assert not check(namespace="document", object=doc, relation="view", subject_id="gina").allowed


def test_delete_by_query(read, write, doc):
    for who in ["hank", "ivy"]:
        create(write, namespace="document", object=doc, relation="viewer", subject_id=who)
    RelationshipApi(write).delete_relationships(namespace="document", object=doc, subject_id="hank")
    left = RelationshipApi(read).get_relationships(namespace="document", object=doc)
    assert [t.subject_id for t in left.relation_tuples] == ["ivy"]
    RelationshipApi(write).delete_relationships(namespace="document", object=doc)
    assert RelationshipApi(read).get_relationships(namespace="document", object=doc).relation_tuples == []


def test_namespaces_and_errors(read, write):
    names = [n.name for n in RelationshipApi(read).list_relationship_namespaces().namespaces]
    assert names == ["user", "group", "folder", "document"]
    with pytest.raises(ApiException) as failure:
        create(write, namespace="nope", object="x", relation="viewer", subject_id="alice")
    assert failure.value.status == 422
    assert '"error"' in failure.value.body
