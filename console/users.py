"""Managing console accounts: create, change role or department, reset passwords, disable."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.enterprises import phone_or_none
from cases.errors import InvalidInput, NotFound
from cases.models import Department
from console.models import ROLES, User
from console.passwords import hash_password, password_problem
from core.phones import InvalidPhone, normalize_phone

log = logging.getLogger(__name__)
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def _department_id(session: Session, role: str, department: int | str | None,
                   errors: dict[str, str]) -> int | None:
    """The department of a liaison (by id or name); other roles have none."""
    if role != "department":
        return None
    if department in (None, ""):
        errors["department"] = "承办单位联络员须指定所属单位"
        return None
    column = Department.id if isinstance(department, int) else Department.name
    found = session.scalars(select(Department).where(column == department)).one_or_none()
    if found is None or not found.active:
        errors["department"] = "单位不存在或已停用"
        return None
    return found.id


def _phone(raw: str | None, errors: dict[str, str]) -> str | None:
    if not raw or not raw.strip():
        return None
    number = phone_or_none(raw)
    if number is None:
        errors["phone"] = "手机号码格式不正确"
    return number


def create_user(session: Session, *, username: str, display_name: str, role: str,
                password: str, department: int | str | None = None, phone: str | None = None,
                now: datetime) -> User:
    """A new active account; raises :class:`InvalidInput` with Chinese messages per field."""
    username = (username or "").strip()
    errors: dict[str, str] = {}
    if not USERNAME.match(username):
        errors["username"] = "用户名为3至64位字母、数字或 _ . -"
    elif session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = "用户名已存在"
    name = (display_name or "").strip() or username
    if len(name) > 64:
        errors["display_name"] = "姓名不能超过64字"
    if role not in ROLES:
        errors["role"] = "请选择角色"
    department_id = _department_id(session, role, department, errors)
    problem = password_problem(password or "", user_inputs=(username, name))
    if problem:
        errors["password"] = problem
    number = _phone(phone, errors)
    if errors:
        raise InvalidInput(errors)
    user = User(username=username, display_name=name, role=role, department_id=department_id,
                password_hash=hash_password(password), active=True, phone=number,
                created_at=now, password_changed_at=now)
    session.add(user)
    session.flush()
    log.info("console user %s created (%s)", username, role)
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def update_user(session: Session, user_id: int, *, display_name: str, role: str,
                department: int | str | None, phone: str | None, active: bool,
                acting_user_id: int | None = None) -> User:
    """Change an account's profile, role, department or active flag."""
    user = get_user(session, user_id)
    errors: dict[str, str] = {}
    name = (display_name or "").strip()
    if not name or len(name) > 64:
        errors["display_name"] = "请填写姓名（不超过64字）"
    if role not in ROLES:
        errors["role"] = "请选择角色"
    department_id = _department_id(session, role, department, errors)
    number = _phone(phone, errors)
    # An administrator locking themselves out leaves nobody to undo it.
    if acting_user_id == user.id and (not active or role != "admin"):
        errors["active"] = "不能停用自己或取消自己的管理员角色"
    if errors:
        raise InvalidInput(errors)
    user.display_name, user.role, user.department_id = name, role, department_id
    if user.active and not active:
        user.end_sessions()
    user.phone, user.active = number, active
    log.info("console user %s updated (%s, active=%s)", user.username, role, active)
    return user


def set_password(session: Session, user_id: int, password: str, *, now: datetime) -> User:
    """Replace the password; sessions signed in with the old one stop working."""
    user = get_user(session, user_id)
    problem = password_problem(password or "", user_inputs=(user.username, user.display_name))
    if problem:
        raise InvalidInput({"password": problem})
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.end_sessions()
    log.info("console user %s: password changed", user.username)
    return user


NO_LIAISON = ("该单位尚无在用的联络员账号，交办后无人接收通知。如确需交办，请勾选"
              "“该单位无联络员，仍然交办”后再提交。")


def has_active_liaison(session: Session, department_id: int) -> bool:
    """Whether someone at the department will see (and be texted about) a new assignment."""
    return session.scalar(select(User.id).where(
        User.role == "department", User.department_id == department_id, User.active)
        .limit(1)) is not None


def require_liaison_or_confirmation(session: Session, department_id: int,
                                    confirmed: bool) -> None:
    """Routing to a unit nobody reads needs an explicit confirmation (422 otherwise)."""
    if not confirmed and not has_active_liaison(session, department_id):
        raise InvalidInput({"department_id": NO_LIAISON})


def liaison_problems(session: Session, department_ids: list[int], confirmed: bool, *,
                     field: str = "department_ids") -> dict[str, str]:
    """The same rule for several units at once (专班商办, the leading group's decision):
    every unit without a liaison is named, and one confirmation covers them. Returned as
    field errors, so a form reports them together with its other problems."""
    if confirmed:
        return {}
    missing = [d for d in dict.fromkeys(department_ids) if not has_active_liaison(session, d)]
    if not missing:
        return {}
    names = dict(session.execute(select(Department.id, Department.name)
                                 .where(Department.id.in_(missing))).tuples().all())
    units = "、".join(names.get(d, "") for d in missing if names.get(d))
    if not units:
        return {}  # unknown units: the domain refuses them with its own message
    return {field: f"{units}尚无在用的联络员账号，交办后无人接收通知。如确需交办，"
                   "请勾选“有单位无联络员，仍然交办”后再提交。"}


def liaison_phones(session: Session, department_id: int) -> list[str]:
    """Mobile numbers of the department's active liaisons (console users with a phone).

    The console owns the accounts: the app factory hands this to the case domain
    (``cases.services.CaseServices.liaison_phones``), which has no business importing them.
    """
    phones = session.scalars(select(User.phone).where(
        User.role == "department", User.department_id == department_id, User.active,
        User.phone.is_not(None)))
    found: list[str] = []
    for phone in phones:
        try:
            found.append(normalize_phone(phone or ""))
        except InvalidPhone:
            log.warning("liaison phone %r of department %s is not a valid number", phone,
                        department_id)
    return found
