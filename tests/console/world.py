"""A centre's realistic day for walking the console: every page has something to show.

On top of the constructed November (``tests.reports.month``: answered, extended, late,
joint, reworked, returned-and-rerouted cases), "today" (2026-12-08, a Tuesday, 10:00) holds:

=========  ================================================================================
name       story
=========  ================================================================================
window     filed at the window today by an enterprise with a mobile (the merge target)
voicemail  a voicemail from a new caller, transcribed, waiting for review (and a repeat
           voicemail from ``window``'s mobile linked into it)
merged     a repeat request from the same mobile, merged (并单) into ``window``
routed     routed to 区金融发展服务中心, not yet accepted
repeat     a second request from ``routed``'s mobile today (并单 candidates)
extension  accepted by 区金融发展服务中心, an extension requested
answered   answered by 区金融发展服务中心, waiting for the rating; the automatic calls failed
joint      专班商办 with a meeting not yet held
escalated  研判上报, waiting for the leading group
rework     rated 1 (差评): reworked, hanging, back with 区金融发展服务中心
returned   退单 by 区经信局, back in the queue
kb_answer  answered at once by citing a knowledge-base article
unreachable  answered at once; the automatic calls failed, 回访未果 recorded (settled)
=========  ================================================================================

plus calls through the real IVR (a voicemail, an operator who answered, one who did not,
a status query, wrong keys), knowledge-base articles in every state (one in the phone
menu), an enterprise register, reminders, a calendar override, a bulletin draft with a
typical case, an API token and a dead-lettered call-log entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases import duplicates, reminders
from cases.actions.assignments import do_accept_assignment, do_reply, do_return_assignment
from cases.actions.escalation import do_escalate
from cases.actions.extensions import do_request_extension
from cases.actions.joint import do_start_joint_handling
from cases.actions.rating import do_record_rating
from cases.actions.triage import do_answer_instantly, do_route_to_department
from cases.actors import Actor
from cases.case_models import Case
from cases.enterprises import add_phone, register_enterprise
from cases.models import Department
from core.db import db
from extraction.models import FieldSuggestion
from extraction.service import decide
from followup import calls
from followup.models import AttemptStatus, FollowUp
from followup.policy import FollowUpPolicy
from followup.unreachable import UnreachableRule, record_unreachable
from ivr.models import Call
from knowledge import answers
from knowledge.models import Article
from knowledge.service import ArticleInput, create_article, set_phone_menu, transition
from tests.cases.factories import CALENDAR, OPERATOR, SUPERVISOR, lead, liaison, local, new_case
from tests.console.conftest import DEPT_A, DEPT_B, add_voicemail
from tests.reports.month import NOW_TEXT, build_month
from workdays.store import set_override

MOBILE = "+8613957410001"
OTHER_MOBILE = "+8613957410002"
NEW_MOBILE = "+8613957410003"
LANDLINE = "+8657488990011"
ADMIN = Actor("admin", "系统管理员")
POLICY = FollowUpPolicy()


@dataclass
class World:
    cases: dict[str, Case] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)
    calls: dict[str, str] = field(default_factory=dict)
    enterprise_id: int = 0

    def case_id(self, name: str) -> int:
        return self.cases[name].id


def _calls(world: World, phone: Any, clock: Any, wav: Path) -> None:
    """Calls through the IVR at given local times (the clock decides office hours)."""
    clock.set_local("2026-12-07 21:30")  # after hours: a voicemail under 要素保障
    world.calls["voicemail"] = phone.call(from_number=OTHER_MOBILE, keys=["1", "1"],
                                          voicemail=wav).call_sid
    clock.set_local("2026-12-08 09:10")
    world.calls["operator"] = phone.call(from_number=MOBILE, keys=["4"],
                                         operator_answers=True).call_sid
    # Nobody is on duty in the queue here; this call is the one an operator took.
    answered = db.session.scalars(select(Call).where(
        Call.call_sid == world.calls["operator"])).one()
    answered.reached_operator, answered.operator_answer_seconds = True, 9
    db.session.commit()
    world.calls["unanswered"] = phone.call(from_number=LANDLINE, keys=["4"]).call_sid
    world.calls["status"] = phone.call(from_number=MOBILE, keys=["9"]).call_sid
    world.calls["wrong_keys"] = phone.call(keys=["7", "8", "7"]).call_sid


def _articles(world: World, now: Any) -> None:
    session = db.session()
    unit = session.scalars(select(Department.id).where(Department.name == DEPT_A)).one()
    published = create_article(session, ArticleInput(
        title="小微企业贷款贴息怎么申请",
        answer="符合条件的小微企业可申请贷款贴息。\n\n- 准备营业执照\n- 提交贷款合同",
        questions=["贷款贴息", "借钱有没有补贴"],
        spoken_answer="符合条件的小微企业可以申请贷款贴息，请准备营业执照和贷款合同。",
        category="factor", subcategory="finance", department_id=unit,
        source_document="奉政办发〔2021〕35号", source_url="https://www.fh.gov.cn/"),
        actor=OPERATOR, now=now, publish=True)
    world.articles["published"] = published.id
    world.articles["draft"] = create_article(session, ArticleInput(
        title="用电增容办理流程", answer="请向供电所提交增容申请。"),
        actor=OPERATOR, now=now).id
    review = create_article(session, ArticleInput(
        title="人才公寓申请条件", answer="在本区企业工作的人才可申请。", questions=["人才公寓"]),
        actor=liaison(session, DEPT_A), now=now)
    transition(session, review.id, "submitted", actor=liaison(session, DEPT_A), now=now)
    world.articles["review"] = review.id
    withdrawn = create_article(session, ArticleInput(
        title="旧版招聘补贴政策", answer="该政策已到期。"), actor=OPERATOR, now=now, publish=True)
    transition(session, withdrawn.id, "withdrawn", actor=OPERATOR, now=now, note="政策到期")
    world.articles["withdrawn"] = withdrawn.id
    set_phone_menu(session, [published.id], actor=ADMIN, now=now)
    session.commit()


def build_world(app: Any, clock: Any, phone: Any, wav: Path) -> World:
    """Everything above, committed; the clock ends at 2026-12-08 10:00 local."""
    world = World()
    session = db.session()
    month = build_month(session)
    world.cases.update({f"month_{k}": v for k, v in month.cases.items()})
    _calls(world, phone, clock, wav)
    clock.set_local(NOW_TEXT)
    now = clock()
    session = db.session()
    unit_a = session.scalars(select(Department.id).where(Department.name == DEPT_A)).one()
    unit_b = session.scalars(select(Department.id).where(Department.name == DEPT_B)).one()

    enterprise = register_enterprise(session, name="宁波甬江精密机械有限公司",
                                     town="岳林街道", contact_name="王经理", phones=[MOBILE],
                                     now=now).enterprise
    add_phone(session, enterprise, LANDLINE, "办公室")
    world.enterprise_id = enterprise.id

    earlier = now - timedelta(hours=1)
    window = new_case(session, earlier, "企业新建厂房需要用电增容，希望加快办理", category="factor",
                      subcategory="utilities", contact_name="王经理", contact_phone=MOBILE,
                      enterprise_id=enterprise.id)
    world.cases["window"] = window
    # A repeat voicemail from the window case's mobile is linked into it (重复留言) …
    add_voicemail(session, Path(app.config["RECORDINGS_DIR"]), now, caller=MOBILE,
                  category="factor", sid="world1")
    # … one from a new caller is a case of its own, waiting for review.
    voicemail = add_voicemail(session, Path(app.config["RECORDINGS_DIR"]), now,
                              caller=NEW_MOBILE, category="factor", sid="world2")
    world.cases["voicemail"] = voicemail.case
    # What the caller said, read into fields: one suggestion taken, one waiting.
    for field_name, value in (("contact", "张会计"), ("phone", "13957410003")):
        session.add(FieldSuggestion(case_id=voicemail.case.id, field=field_name, value=value,
                                    confidence=0.8, evidence=[{"text": value}], details={},
                                    source="transcript", created_at=now))
    session.flush()
    taken = session.scalars(select(FieldSuggestion).where(
        FieldSuggestion.case_id == voicemail.case.id, FieldSuggestion.value == "张会计")).one()
    decide(session, taken.id, decision="accepted", actor=OPERATOR, now=now)
    merged = new_case(session, now, "再次反映厂房用电增容进度", category="factor",
                      contact_phone=MOBILE, enterprise_id=enterprise.id)
    duplicates.merge(session, merged.id, into_id=window.id, reason="同一企业同一事项",
                     actor=OPERATOR, now=now)
    world.cases["merged"] = merged

    routed = new_case(session, earlier, "咨询小微企业贷款贴息政策", category="factor",
                      subcategory="finance", contact_phone=OTHER_MOBILE)
    do_route_to_department(session, routed.id, department_id=unit_a, actor=OPERATOR,
                           now=earlier, calendar=CALENDAR, note="请两日内答复")
    world.cases["routed"] = routed

    # A second request from the routed case's mobile: a possible duplicate (并单 candidates).
    world.cases["repeat"] = new_case(session, now, "贷款贴息政策还想再问一下", category="factor",
                                     contact_phone=OTHER_MOBILE)

    ext = new_case(session, local("2026-12-07 09:00"), "申请人才公寓，需要现场核实",
                   category="policy", contact_phone=MOBILE)
    do_route_to_department(session, ext.id, department_id=unit_a, actor=OPERATOR,
                           now=local("2026-12-07 09:30"), calendar=CALENDAR)
    do_accept_assignment(session, lead(ext).id, actor=liaison(session, DEPT_A),
                         now=local("2026-12-07 10:00"))
    do_request_extension(session, lead(ext).id, new_due=date(2026, 12, 18),
                         reason="需现场核实", agreed_with_enterprise=True,
                         actor=liaison(session, DEPT_A), now=earlier)
    world.cases["extension"] = ext

    answered = new_case(session, local("2026-12-04 09:00"), "希望协调银行续贷",
                        category="factor", subcategory="finance", contact_phone=MOBILE,
                        contact_name="李会计")
    do_route_to_department(session, answered.id, department_id=unit_a, actor=OPERATOR,
                           now=local("2026-12-04 09:30"), calendar=CALENDAR)
    do_reply(session, lead(answered).id, text="已联系合作银行，续贷手续已受理。",
             actor=liaison(session, DEPT_A), now=local("2026-12-04 16:00"),
             calendar=CALENDAR)
    world.cases["answered"] = answered

    joint = new_case(session, local("2026-12-07 11:00"), "园区道路和排污管网改造涉及多个部门",
                     category="factor", subcategory="roads")
    do_start_joint_handling(session, joint.id, department_ids=[unit_a, unit_b],
                            lead_department_id=unit_b,
                            meeting_at=local("2026-12-09 14:00"), actor=SUPERVISOR,
                            now=local("2026-12-07 14:00"), calendar=CALENDAR)
    world.cases["joint"] = joint

    escalated = new_case(session, local("2026-12-07 15:00"), "重大项目用地指标协调",
                         category="factor", subcategory="land")
    do_escalate(session, escalated.id, analysis="涉及用地指标，需领导小组决定",
                actor=SUPERVISOR, now=local("2026-12-07 16:00"), decision_days=5,
                calendar=CALENDAR)
    world.cases["escalated"] = escalated

    rework = new_case(session, local("2026-12-01 09:00"), "招工难，希望组织专场招聘会",
                      category="factor", subcategory="talent", contact_phone=OTHER_MOBILE)
    do_route_to_department(session, rework.id, department_id=unit_a, actor=OPERATOR,
                           now=local("2026-12-01 09:30"), calendar=CALENDAR)
    do_reply(session, lead(rework).id, text="已告知招聘会时间。",
             actor=liaison(session, DEPT_A), now=local("2026-12-02 10:00"),
             calendar=CALENDAR)
    do_record_rating(session, rework.id, score=1, comment="没有解决问题",
                     via="operator", actor=OPERATOR, now=local("2026-12-03 10:00"),
                     calendar=CALENDAR)
    world.cases["rework"] = rework

    returned = new_case(session, local("2026-12-07 10:00"), "增值税留抵退税政策咨询",
                        category="policy", contact_phone=LANDLINE)
    do_route_to_department(session, returned.id, department_id=unit_b, actor=OPERATOR,
                           now=local("2026-12-07 10:30"), calendar=CALENDAR)
    do_return_assignment(session, lead(returned).id, reason="属于税务部门职责",
                         actor=liaison(session, DEPT_B), now=local("2026-12-07 15:00"),
                         calendar=CALENDAR)
    world.cases["returned"] = returned
    session.commit()

    _articles(world, now)
    session = db.session()
    kb_case = new_case(session, now, "小微企业贷款贴息怎么申请", category="factor",
                       contact_phone=LANDLINE)
    article = session.get(Article, world.articles["published"])
    assert article is not None
    answers.answer_with_article(session, kb_case.id, article_id=article.id,
                                version=article.version, text=article.answer, actor=OPERATOR,
                                now=now, today_local=date(2026, 12, 8), calendar=CALENDAR)
    world.cases["kb_answer"] = kb_case

    # The answered case's automatic follow-up calls failed: an operator task.
    followup = session.scalars(select(FollowUp).where(FollowUp.case_id == answered.id)).one()
    calls.schedule(session, followup.id, now=now, policy=POLICY, calendar=CALENDAR)
    for outcome in (AttemptStatus.NO_ANSWER, AttemptStatus.BUSY, AttemptStatus.NO_ANSWER):
        at = followup.next_attempt_at
        assert at is not None
        plan = calls.begin_attempt(session, followup.id, now=at, policy=POLICY,
                                   calendar=CALENDAR, dial=lambda number: number)
        assert plan.attempt_id is not None
        calls.attempt_failed(session, plan.attempt_id, status=outcome, now=at, policy=POLICY,
                             calendar=CALENDAR)
    # Another answered case: the REST request failed for good, then nobody could be reached
    # by the operator either (回访未果, settled by the default rule).
    unreachable = new_case(session, local("2026-12-03 09:00"), "咨询专利申请补助",
                           category="special", contact_phone=OTHER_MOBILE)
    do_answer_instantly(session, unreachable.id, text="请登录区中小企业公共服务平台申报。",
                        actor=OPERATOR, now=local("2026-12-03 09:30"), calendar=CALENDAR)
    followup = session.scalars(select(FollowUp).where(FollowUp.case_id == unreachable.id)).one()
    calls.schedule(session, followup.id, now=now, policy=POLICY, calendar=CALENDAR)
    for outcome in (AttemptStatus.ERROR, AttemptStatus.NO_ANSWER, AttemptStatus.MACHINE):
        at = followup.next_attempt_at
        assert at is not None
        plan = calls.begin_attempt(session, followup.id, now=at, policy=POLICY,
                                   calendar=CALENDAR, dial=lambda number: number)
        assert plan.attempt_id is not None
        calls.attempt_failed(session, plan.attempt_id, status=outcome, now=at, policy=POLICY,
                             calendar=CALENDAR)
    record_unreachable(session, followup.id, reason="号码停机或空号", actor=OPERATOR, now=now,
                       rule=UnreachableRule.SETTLE)
    world.cases["unreachable"] = unreachable
    reminders.send_reminders(session, now, calendar=CALENDAR)
    set_override(session, date(2026, 12, 26), True, "元旦调休上班", by="adm")
    session.commit()
    return world
