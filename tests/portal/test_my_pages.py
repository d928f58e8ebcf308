"""My licences and who looked at my data: access checks, services called, query counts."""

import pytest

from tongban.licences import sharing
from tongban.licences.models import LicenceUse, UseAuthorisation

from .helpers import issue_business_licence, log_prefill_query

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]
# Every signed-in request: session and user reads, and the session write of the accounts app's idle
# timeout (a savepoint, the update, the release). The page's own queries are added to this.
SIGNED_IN = 5


@pytest.fixture
def licence(demo_world, db):
    return issue_business_licence("changsha-boss")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ("/my/licences/", "/my/data-log/"):
        response = client.get(url)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"]


def test_holder_sees_their_licences(user_client, licence, django_assert_max_num_queries):
    client = user_client("changsha-boss")
    with django_assert_max_num_queries(SIGNED_IN + 3):  # licences, enterprises, licences issued by peer nodes
        response = client.get("/my/licences/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "营业执照" in text and licence.identifier in text and "有效" in text
    assert f'href="/my/licences/{licence.pk}/"' in text


def test_another_person_gets_404_for_the_licence(user_client, licence):
    client = user_client("changsha-citizen")
    assert "营业执照" not in client.get("/my/licences/").content.decode()
    assert client.get(f"/my/licences/{licence.pk}/").status_code == 404
    assert client.post(f"/my/licences/{licence.pk}/", {"action": "authorise"}).status_code == 404


def test_show_by_qr_code_discloses_only_the_chosen_fields(user_client, licence, django_assert_max_num_queries):
    client = user_client("changsha-boss")
    with django_assert_max_num_queries(SIGNED_IN + 7):  # the page's, the service's and the uses' access checks
        response = client.post(f"/my/licences/{licence.pk}/", {"action": "show", "fields": ["holder_name"]})
    text = response.content.decode()
    assert response.status_code == 200 and "<svg" in text and 'data-testid="show-qr"' in text
    response = client.post(f"/my/licences/{licence.pk}/", {"action": "show", "fields": ["password"]})
    assert response.status_code == 422 and "不可出示的字段" in response.content.decode()


def test_authorise_a_use_shows_the_code_once_and_the_use_is_listed(user_client, licence):
    from tongban.accounts.models import User

    client = user_client("changsha-boss")
    response = client.post(f"/my/licences/{licence.pk}/",
                           {"action": "authorise", "item_basic_code": "000117002000", "case_ref": "YJS-1"})
    text = response.content.decode()
    assert response.status_code == 200
    authorisation = UseAuthorisation.objects.get(licence=licence)
    code = text.split('data-testid="use-code">', 1)[1].split("<", 1)[0]
    assert len(code) == 10 and authorisation.code_digest not in text
    officer = User.objects.get(username="changsha-market")
    sharing.consume_authorisation(code=code, item_basic_code="000117002000", case_ref="YJS-1", officer=officer,
                                  reason="核验营业执照")
    text = client.get(f"/my/licences/{licence.pk}/").content.decode()
    assert "核验营业执照" in text and "长沙市市场监督管理局" in text and "授权用证" in text
    assert LicenceUse.objects.filter(licence=licence).count() == 1
    assert code not in text  # shown once only


def test_authorise_with_bad_input_names_the_fields(user_client, licence):
    client = user_client("changsha-boss")
    response = client.post(f"/my/licences/{licence.pk}/", {"action": "authorise", "item_basic_code": "12", "case_ref": ""})
    text = response.content.decode()
    assert response.status_code == 422
    assert 'id="item-error"' in text and 'id="case-error"' in text and "办件编号必填" in text
    assert not UseAuthorisation.objects.filter(licence=licence).exists()


def test_licence_detail_query_count(user_client, licence, django_assert_max_num_queries):
    client = user_client("changsha-boss")
    with django_assert_max_num_queries(SIGNED_IN + 5):
        assert client.get(f"/my/licences/{licence.pk}/").status_code == 200


def test_data_log_lists_who_looked_and_why(user_client, django_assert_max_num_queries):
    log_prefill_query("changsha-boss", "YJS-PORTAL-0001")
    client = user_client("changsha-boss")
    with django_assert_max_num_queries(SIGNED_IN + 4):
        response = client.get("/my/data-log/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "YJS-PORTAL-0001" in text and "自动填报" in text and "已提供" in text
    assert "政务服务" in text  # the consumer department
    other = user_client("changsha-citizen").get("/my/data-log/").content.decode()
    assert "YJS-PORTAL-0001" not in other and "还没有部门查询过您的数据" in other
