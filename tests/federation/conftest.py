import pytest

from tongban.federation.descriptors import import_descriptor

from .fakes import FakeNode


@pytest.fixture
def node(settings):
    """This test process acts as node `fb` serving 430300."""
    settings.TONGBAN_NODE_CODE = "fb"
    settings.TONGBAN_NODE_URL = "http://127.0.0.1:8999"
    settings.TONGBAN_NODE_REGIONS = "430300"
    return settings


@pytest.fixture
def peer(node, db):
    """A fake peer `fa`, introduced by its descriptor; this node agrees to handle item TESTITEM v1 for it."""
    fake = FakeNode("fa")
    import_descriptor(fake.descriptor(), fingerprint=fake.fingerprint, offers=["TESTITEM:1"])
    return fake


@pytest.fixture(scope="session")
def federation(tmp_path_factory):
    """Three real nodes (fa, fb push; fc pull-only), started once for the multi-process tests."""
    from .nodes import make_federation

    yield from _running(make_federation(tmp_path_factory.mktemp("federation")))


@pytest.fixture(scope="session")
def demo_nodes(tmp_path_factory):
    """Nodes 长沙 (`changsha`, 430100) and 湘潭 (`xiangtan`, 430300), each with the demo data of its own
    region, peers introduced: the cross-node case between real processes. One per session (two
    gunicorns and two delivery workers): every multi-process cross-node test shares it."""
    import os

    from tongban.federation.localfed import LocalFederation, NodeSpec

    from .nodes import FAST, free_port, postgres_base, test_db_prefix

    fed = LocalFederation(
        base_dir=tmp_path_factory.mktemp("crossnode"), database_url=postgres_base(), demo_data=True, periodic=False,
        extra_env=FAST, db_prefix=f"{test_db_prefix()}_{os.getpid()}_x", template_prefix=test_db_prefix(),
        nodes=[NodeSpec("changsha", "长沙市政务服务节点", ["430100"], free_port()),
               NodeSpec("xiangtan", "湘潭市政务服务节点", ["430300"], free_port())])
    yield from _running(fed)


def _running(fed):
    """Set up and start every node (all started before waiting for any), yield them, and always stop
    them and drop their databases."""
    from .nodes import Nodes

    try:
        fed.setup()
        for code in fed.codes():
            fed.start(code, wait=False)
        for code in fed.codes():
            fed.wait_ready(code)
        yield Nodes(fed)
    finally:
        fed.down()
        fed.drop_databases()
