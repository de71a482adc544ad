"""Reading fields out of what a caller said: digits as spoken, names by sound, evidence."""

from __future__ import annotations

import pytest

from cases.uscc import uscc_check_char
from extraction.directory import Directory, KnownEnterprise, static_towns
from extraction.extract import extract
from extraction.numbers import digit_runs
from extraction.text import prepare

DIRECTORY = Directory([
    KnownEnterprise(7, "宁波奉化精工机械有限公司", "萧王庙街道"),
    KnownEnterprise(8, "宁波恒达塑料制品有限公司", "江口"),
    KnownEnterprise(9, "宁波恒达物流有限公司", "江口街道"),
], static_towns())


def phones(text: str) -> list[str]:
    return [p.value for p in extract(text, DIRECTORY).phones]


@pytest.mark.parametrize(("said", "number"), [
    ("电话幺三八零零幺三八零零幺", "13800138001"),
    ("电话一三八零零一三八零零一", "13800138001"),
    ("手机一三八 零零一三 八零零一", "13800138001"),  # grouped, as Vosk spaces words
    ("手机幺三八嗯零零幺三嗯八零零幺", "13800138001"),  # a filler between groups
    ("电话一五九两两六六八八零零", "15922668800"),  # 两 is 2
    ("电话13800138001", "13800138001"),
    ("电话：138-0013-8001。", "13800138001"),
    ("座机零五七四八八五二三六七一", "057488523671"),  # landlines keep the area code
    ("座机0574-88523671", "057488523671"),
    ("座机八八五二三六七一", "057488523671"),  # a local number is the district's (0574)
    ("座机零二一六二三四五六七八", "02162345678"),  # another city's stays its own
])
def test_phone_numbers_as_they_are_said(said: str, number: str) -> None:
    assert phones("喂你好" + said + "谢谢") == [number]


def test_quantities_dates_and_the_hotline_are_not_phone_numbers() -> None:
    text = ("我们一共三个项目每个两千三百万二零二六年十一月十五号以前要交之前打过八八八八八七幺八"
            "没人接")
    assert phones(text) == []


def test_a_number_said_twice_is_one_suggestion_and_two_numbers_are_two() -> None:
    assert phones("电话幺三九零五七四八三六三六再说一遍幺三九零五七四八三六三六") == ["13905748363"]
    assert phones("手机一五九六七二三八八四五还有座机八八六五四三二一") == [
        "15967238845", "057488654321"]


def test_a_phone_suggestion_shows_the_words_it_came_from() -> None:
    text = "我是陈经理 电话 幺三八 零零幺三 八零零幺 谢谢"
    (found,) = extract(text, DIRECTORY).phones
    (evidence,) = found.evidence
    assert evidence.text == "幺三八 零零幺三 八零零幺"
    assert text[evidence.start:evidence.end] == evidence.text


def test_a_spoken_uscc_is_read_and_its_check_character_decides_the_confidence() -> None:
    body = "91330283MA2NCTJ56"
    good = body + uscc_check_char(body)
    spoken = "九幺三三零二八三m a二n c t j五六" + good[-1].lower()
    found = extract(f"我们的统一社会信用代码是{spoken}我姓邵", DIRECTORY).uscc
    assert found is not None and found.value == good and found.confidence >= 0.9
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    slipped = extract(f"统一社会信用代码{wrong}", DIRECTORY).uscc
    assert slipped is not None and slipped.value == wrong and slipped.confidence < 0.6


def test_registered_enterprises_are_found_by_short_name_and_by_sound() -> None:
    said = extract("喂我是奉化精工机械的陈经理", DIRECTORY).enterprise
    assert said is not None and said.extra == {"registered": True, "enterprise_id": 7}
    assert said.evidence[0].text == "奉化精工机械"
    slip = extract("您好我们是恒大塑料制品的", DIRECTORY).enterprise  # 恒大 for 恒达
    assert slip is not None and slip.value == "宁波恒达塑料制品有限公司"
    assert slip.confidence < said.confidence


def test_a_name_two_enterprises_share_suggests_neither() -> None:
    found = extract("我们是恒达的想问一下", DIRECTORY).enterprise
    assert found is None


def test_unregistered_company_names_are_suggested_as_new() -> None:
    found = extract("你好我是宁波顺达五金制品有线公司的李经历", DIRECTORY)
    assert found.enterprise is not None
    assert found.enterprise.value == "宁波顺达五金制品有限公司"  # 有线 is the recogniser's slip
    assert found.enterprise.extra["registered"] is False
    assert found.contact is not None and found.contact.value == "李经理"
    assert extract("我们公司想问一下", DIRECTORY).enterprise is None


@pytest.mark.parametrize(("said", "contact"), [
    ("喂我是华丰轴承的李总我们想", "李总"),
    ("我姓吴吴经理电话", "吴经理"),
    ("我姓郑电话一三九", "郑"),
    ("我叫林小芳电话", "林小芳"),
    ("联系人张伟电话", "张伟"),
    ("我是人事小张电话", "小张"),
    ("我是车队长蓝队长电话", "蓝队长"),  # the role before the person is not a name
    ("我姓欧阳电话", "欧阳"),
])
def test_contacts_with_their_titles(said: str, contact: str) -> None:
    found = extract(said, DIRECTORY).contact
    assert found is not None and found.value == contact


def test_no_contact_in_words_that_only_start_like_names() -> None:
    assert extract("我们是小微企业想申请高新技术企业一周总共停电三次", DIRECTORY).contact is None


def test_towns_by_name_by_sound_with_a_place_word_and_from_the_enterprise() -> None:
    town = extract("阿拉是西口的竹木工艺品厂", DIRECTORY).town  # 西口 for 溪口
    assert town is not None and town.value == "溪口镇"
    assert extract("我们在锦屏街道", DIRECTORY).town.value == "锦屏街道"  # type: ignore[union-attr]
    assert extract("想去上天看看", DIRECTORY).town is None  # a homophone alone is no place
    seat = extract("我们是恒达塑料制品的", DIRECTORY).town
    assert seat is not None and seat.value == "江口街道" and seat.extra["from_enterprise"]


def test_area_and_sub_area_from_the_request_not_from_the_callers_role() -> None:
    found = extract("我想咨询一下技改项目的补助我是财务钱会计", DIRECTORY)
    assert found.area is not None and found.area.extra["code"] == "policy"
    assert found.area.value == "政策咨询"
    assert [e.text for e in found.area.evidence]  # the words it rests on
    utilities = extract("我们厂最近老是停电", DIRECTORY)
    assert utilities.subarea is not None and utilities.subarea.value == "水电气"
    assert extract("喂你好", DIRECTORY).area is None


def test_the_json_shape_has_every_field() -> None:
    shape = extract("喂你好", DIRECTORY).as_dict()
    assert shape == {"enterprise": None, "contact": None, "phones": [], "uscc": None,
                     "area": None, "subarea": None, "town": None}


def test_evidence_points_into_the_original_text() -> None:
    text = "【登记】企业：宁波恒达塑料制品有限公司；联系人：陈经理，电话 0574-88523671。"
    found = extract(text, DIRECTORY)
    for suggestion in [found.enterprise, found.contact, *found.phones]:
        assert suggestion is not None
        for evidence in suggestion.evidence:
            assert text[evidence.start:evidence.end] == evidence.text


def test_digit_runs_stop_at_quantities() -> None:
    assert [r.digits for r in digit_runs(prepare("三十多万两千三百").text)] == [
        "3", "2", "3"]
