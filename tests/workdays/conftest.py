from pathlib import Path

import pytest

from tongban.workdays import calendar, listeners

EXAMPLE_2027 = Path(__file__).parent / "example-2027-notice.yaml"


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Each test's database is rolled back, so the in-process calendar cache must not outlive it."""
    calendar.clear_cache()
    yield
    calendar.clear_cache()


@pytest.fixture
def calls():
    """A listener registered for the test; yields the list of calls it received."""
    received: list[tuple] = []

    def listener(changed_from, changed_to, region_code):
        received.append((changed_from, changed_to, region_code))

    listeners.register_calendar_listener(listener)
    yield received
    listeners.unregister_calendar_listener(listener)


@pytest.fixture
def regions(db):
    from tongban.regions.models import Region

    hunan = Region.objects.create(code="430000", name="湖南省", level="province")
    changsha = Region.objects.create(code="430100", name="长沙市", level="city", parent=hunan)
    furong = Region.objects.create(code="430102", name="芙蓉区", level="county", parent=changsha)
    zhuzhou = Region.objects.create(code="430200", name="株洲市", level="city", parent=hunan)
    return {"hunan": hunan, "changsha": changsha, "furong": furong, "zhuzhou": zhuzhou}


@pytest.fixture
def example_2027():
    return EXAMPLE_2027
