"""What the IVR says about cases, in Mandarin written for text-to-speech."""

from __future__ import annotations

from datetime import date

from cases import timeliness
from cases.case_models import Case
from cases.deadlines import spoken_date
from cases.vocab import AssignmentState, Status
from core.centre import CENTRE_NAME
from core.phones import digits_for_speech

NOT_FOUND = "未找到该诉求编号，请重新输入。"


def spoken_case_number(number: str) -> str:
    """Digit by digit in Chinese numerals, the date part and the sequence apart:
    ``2611270001`` → ``二六幺幺二七，零零零幺``."""
    return "，".join(digits_for_speech(part) for part in (number[:6], number[6:]) if part)


def filed_prompt(number: str, *, linked: bool) -> str:
    """Read the case number back (twice: callers write it down) after a voicemail."""
    spoken = spoken_case_number(number)
    lead = "您反映的同类诉求正在办理中，本次留言已并入该诉求。" if linked else ""
    return f"{lead}您的诉求编号是：{spoken}。再说一遍，{spoken}。"


def open_cases_prompt(count: int) -> str:
    return f"您有{count}件诉求正在办理中，查询进度请按9。"


def _departments(case: Case) -> str:
    names = [a.department.name for a in case.assignments
             if a.round == case.rework_count
             and a.state not in (AssignmentState.RETURNED, AssignmentState.WITHDRAWN)]
    return "、".join(dict.fromkeys(names))


LOOKUP_STATE_TEXT: dict[str, str] = {
    Status.RECEIVED: "已受理，正在分派办理",
    Status.ESCALATED: "已上报区企业服务工作领导小组研究处理",
    Status.HANDLING: "正在办理中",
    Status.ANSWERED: "已答复，我们将回访听取您的评价",
    Status.CLOSED: "已办结",
    Status.MERGED: "已并入同类诉求一并办理",
}
NUMBER_MALFORMED = "诉求编号为10位数字，请重新输入。"
VERIFY_WRONG = "诉求编号或电话后四位不正确。"
# Key 9's limits (cases.lookup_guard): the same words whether the number exists or not.
LOOKUP_SPENT = "本次查询次数已达上限，请使用诉求登记的联系电话查询，或在工作时间转人工服务。"
CASE_LOCKED = ("该诉求编号的电话查询已暂停，请使用诉求登记的联系电话查询，"
               "或在工作时间转人工服务。")


def _due_sentence(case: Case, today: date) -> str:
    """The due date, never one that has passed (then: the centre is chasing it)."""
    if case.due_date is None or case.status in (Status.ANSWERED, Status.CLOSED):
        return ""
    if timeliness.case_overdue_now(case, today):
        return "已超过办理期限，中心正在督促办理。"
    if timeliness.is_past_due(case.due_date, today):
        return ""  # waiting in the centre's queue: the state says so already
    return f"办理期限为{spoken_date(case.due_date, today)}。"


# How much of a reply (and of its policy basis) one look-up reads: about a minute of speech.
# A longer one is read up to there, and the caller is told where the rest is.
SPOKEN_REPLY_MAX = 200
SPOKEN_BASIS_MAX = 100
LONG_REPLY_NOTE = "内容较长，以上为前一部分，完整内容请查看短信，或在工作时间转人工服务查询。"


def _spoken_part(text: str, limit: int) -> tuple[str, bool]:
    """``text`` (whitespace collapsed) up to ``limit`` characters, and whether it was cut."""
    text = " ".join(text.split()).rstrip("。")
    if len(text) <= limit:
        return text, False
    return text[:limit] + "……", True


def _latest_reply(case: Case) -> str:
    """The latest answer, explanation (with its policy basis) or progress note.

    Reply text is data: it is inserted as it is, never formatted (a department may write
    braces or percent signs), and read up to :data:`SPOKEN_REPLY_MAX` characters.
    """
    if not case.replies:
        return ""
    latest = case.replies[-1]
    text, cut = _spoken_part(latest.text, SPOKEN_REPLY_MAX)
    note = ""
    if latest.kind == "progress":
        spoken = f"最新办理进展：{text}。"
    elif latest.kind == "explanation":
        basis = ""
        if latest.policy_basis:
            part, basis_cut = _spoken_part(latest.policy_basis, SPOKEN_BASIS_MAX)
            basis, cut = f"，依据{part}", cut or basis_cut
        spoken = f"解释说明：{text}{basis}。"
    else:
        spoken = f"答复内容：{text}。"
    if cut:
        note = LONG_REPLY_NOTE
    return spoken + note


def _state_sentence(case: Case, today: date) -> str:
    units = _departments(case)
    unit_text = f"承办单位：{units}。" if units and case.status != Status.RECEIVED else ""
    return f"{LOOKUP_STATE_TEXT.get(case.status, '')}。{unit_text}{_due_sentence(case, today)}"


def lookup_prompt(case: Case, today: date, merged_into: Case | None = None) -> str:
    """Key 9: number, state, handling units, due date and the latest answer or progress.

    A merged case (并单) is read as merged, then with the status of the case it was merged
    into: that case's number and replies only when it has the same contact phone (another
    contact's case is its own business), its state, units and due date in any case.
    """
    head = f"诉求编号{spoken_case_number(case.number)}，"
    if case.status == Status.MERGED and merged_into is not None:
        if merged_into.contact_phone and merged_into.contact_phone == case.contact_phone:
            return (f"{head}已并入诉求编号{spoken_case_number(merged_into.number)}一并办理。"
                    f"该诉求{_state_sentence(merged_into, today)}{_latest_reply(merged_into)}")
        return f"{head}已并入同类诉求一并办理，该诉求{_state_sentence(merged_into, today)}"
    return f"{head}{_state_sentence(case, today)}{_latest_reply(case)}"


def caller_cases_prompt(cases: list[Case], total: int, today: date) -> str:
    """The caller's newest cases (at most three), read without any typing."""
    head = (f"您有{total}件诉求尚未办结，" if total > len(cases) else "") + \
        f"以下是您最近的{len(cases)}件诉求。"
    ordinals = ["第一件", "第二件", "第三件"]
    return head + "".join(f"{ordinals[i]}，{lookup_prompt(case, today)}"
                          for i, case in enumerate(cases))


def status_prompt(case: Case, today: date) -> str:
    """Status, handling department and due date of a case, as one sentence."""
    head = f"诉求编号{spoken_case_number(case.number)}，"
    departments = _departments(case)
    due = f"办理期限为{spoken_date(case.due_date, today)}。" if case.due_date else ""
    if case.status == Status.RECEIVED:
        return f"{head}已受理，正在分派办理。{due}"
    if case.status == Status.ESCALATED:
        return f"{head}已上报区企业服务工作领导小组研究处理。"
    if case.status == Status.HANDLING:
        return f"{head}正在办理中，承办单位：{departments}。{due}"
    answered_by = departments or CENTRE_NAME
    if case.status == Status.ANSWERED:
        return f"{head}已由{answered_by}答复，我们将回访听取您的评价。"
    return f"{head}已办结。感谢您对我们工作的支持。"
