"""Who is calling: a contact with a title (陈经理, 周女士, 小王), and company names not yet
registered ("宁波顺达五金制品有限公司").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extraction.text import Evidence, Prepared, is_han

# Common surnames (百家姓 as met on the phone); compound ones first.
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容", "司徒", "尉迟", "皇甫", "令狐")
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁"
    "蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂"
    "全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠"
    "荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹"
    "井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰"
    "赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝"
    "智幸奉植衡富尧闭由贝")
# Titles, longest first so that 总经理 wins over 经理 and 总.
TITLES = tuple(sorted((
    "总经理", "副总经理", "经理", "副总", "总监", "总", "董事长", "董秘", "主任", "会计", "出纳",
    "老板娘", "老板", "厂长", "先生", "女士", "小姐", "师傅", "科长", "主管", "队长", "律师",
    "博士", "书记", "局长", "社长", "主席", "秘书", "助理", "老师", "所长", "处长", "部长", "工",
    "总工", "站长", "组长", "班长", "会长", "工程师",
), key=len, reverse=True))
# Said right before a person introduces themself or names whom to call back.
SELF_CUES = ("我是", "我叫", "我姓", "联系人是", "联系人", "名字叫", "名字是", "找", "是", "的")
STRONG_CUES = ("我是", "我叫", "我姓", "联系人", "名字叫", "名字是", "找")
# Characters that end a name said after 我叫 / 联系人.
NAME_STOPS = frozenset("电手我是在联号的今啊呀想要和跟这那就请麻谢再您你他她们")
# Roles said right before 小王 / 老周 ("人事小张", "财务小陈").
ROLE_CUES = ("人事", "财务", "会计", "出纳", "行政", "专员", "助理", "主管", "部", "员", "科",
             "秘书", "负责人", "社长", "厂里")
# Said right after a name ends the self-introduction.
AFTER_NAME = ("电话", "手机", "号码", "联系")
# 小/老 + these is a word, not a person (小微, 老板, 小时 …).
NOT_AFTER_XIAO_LAO = frozenset("微板型时孩家员厂企公规店超学伙年人本")
# Words that are not names although they start with a surname character.
NOT_NAMES = ("高新", "高层", "方面", "方便", "方式", "时间", "成本", "成果", "安全", "安家",
             "文化", "和平", "明年", "明白", "金额", "华夏", "平台", "程序", "周边", "周转",
             "代理", "向上", "于是", "关于", "全部", "全区", "应该", "应急", "经理", "江口")


@dataclass(frozen=True)
class ContactFound:
    value: str
    confidence: float
    evidence: Evidence
    start: int  # normalised-text indexes
    end: int


def _surname_at(text: str, i: int) -> str | None:
    for compound in COMPOUND_SURNAMES:
        if text.startswith(compound, i):
            return compound
    return text[i] if i < len(text) and text[i] in SURNAMES else None


def _title_at(text: str, i: int) -> str | None:
    return next((t for t in TITLES if text.startswith(t, i)), None)


def _cue_before(text: str, i: int, cues: tuple[str, ...] = SELF_CUES) -> str | None:
    window = text[max(0, i - 6):i]
    return next((cue for cue in cues if window.endswith(cue)), None)


def find_contact(prepared: Prepared) -> ContactFound | None:
    """The person to call back, with a title when one was said."""
    text = prepared.text.replace("经历", "经理")  # the recogniser's favourite slip (same length)
    candidates: list[tuple[float, int, str, int, int]] = []

    def add(confidence: float, value: str, start: int, end: int) -> None:
        candidates.append((confidence, -start, value, start, end))

    for i in range(len(text)):
        surname = _surname_at(text, i)
        # 我姓陈 (… 陈经理): the surname, with the title if it follows.
        if text.startswith("我姓", i):
            name = _surname_at(text, i + 2)
            if name:
                after = i + 2 + len(name)
                repeated = text.startswith(name, after)
                title = _title_at(text, after + (len(name) if repeated else 0))
                if title and title not in ("工",):
                    end = after + (len(name) if repeated else 0) + len(title)
                    add(0.85, name + title, i + 2, end)
                else:
                    add(0.75, name, i + 2, after)
        # 我叫张伟 / 联系人张伟 / 名字叫林小芳: a full name.
        for lead in ("我叫", "名字叫", "名字是", "联系人是", "联系人"):
            if text.startswith(lead, i):
                start = i + len(lead)
                name = _surname_at(text, start)
                if not name:
                    continue
                end = start + len(name)
                while end < len(text) and end - start < len(name) + 2 and is_han(text[end]) \
                        and text[end] not in NAME_STOPS and not _title_at(text, end):
                    end += 1
                said_title = _title_at(text, end)
                if said_title and end - start == len(name):
                    add(0.85, text[start:end + len(said_title)], start, end + len(said_title))
                elif end - start > len(name):
                    add(0.85, text[start:end], start, end)
        if surname is None:
            continue
        after = i + len(surname)
        # 小王 / 老周.
        if i > 0 and text[i - 1] in "小老" and text[i] not in NOT_AFTER_XIAO_LAO:
            cue = _cue_before(text, i - 1, SELF_CUES + ROLE_CUES)
            ends_intro = any(text.startswith(w, after) for w in AFTER_NAME)
            if cue or ends_intro:
                strong = cue in STRONG_CUES or (cue and ends_intro)
                add(0.8 if strong else 0.7, text[i - 1:after], i - 1, after)
        # 陈经理 / 李总 / 周女士.
        job = _title_at(text, after)
        if job and not any(text.startswith(word, i) for word in NOT_NAMES):
            cue = _cue_before(text, i)
            value = surname + job
            if job == "总" and text.startswith("总共", after):
                continue
            next_at = after + len(job)
            follower = _surname_at(text, next_at)
            if follower and _title_at(text, next_at + len(follower)):
                continue  # a role ("车队长", "安全主管") before the person's own name
            confidence = 0.85 if cue in STRONG_CUES else 0.75 if cue else 0.55
            add(confidence, value, i, after + len(job))
    if not candidates:
        return None
    confidence, _, value, start, end = max(candidates)
    return ContactFound(value, confidence, prepared.evidence(start, end), start, end)


_COMPANY = re.compile(r"(股份有限公司|有限责任公司|集团有限公司|有限公司|厂)")
_ANCHORS = ("宁波", "奉化", "浙江")
_COMPANY_CUES = ("我是", "我们是", "这里是", "这边是", "我们公司", "公司", "企业", "来访企业",
                 "企业名称", "是", "叫")
_NOT_COMPANY = ("我们", "你们", "他们", "这个", "那个", "一个", "一家", "我", "本", "贵")


@dataclass(frozen=True)
class CompanyFound:
    value: str
    confidence: float
    start: int  # normalised-text indexes
    end: int


def find_company_names(prepared: Prepared) -> list[CompanyFound]:
    """Company names as said: "…有限公司" (and "…厂" after a region word)."""
    text = prepared.text
    found: list[CompanyFound] = []
    for match in _COMPANY.finditer(text):
        suffix = match.group(1)
        begin = match.start()
        window_start = begin
        while window_start > 0 and begin - window_start < 20 and is_han(text[window_start - 1]):
            window_start -= 1
        window = text[window_start:begin]
        anchor = max((window.rfind(a) for a in _ANCHORS), default=-1)
        if anchor >= 0:
            name_start, confidence = window_start + anchor, 0.75
        elif suffix == "厂":
            continue
        else:
            cut = -1
            for cue in _COMPANY_CUES:
                at = window.rfind(cue)
                if at >= 0:
                    cut = max(cut, at + len(cue))
            if cut < 0:
                continue
            name_start, confidence = window_start + cut, 0.6
        core = text[name_start:begin]
        if len(core) < 2 or core in _NOT_COMPANY or any(core.endswith(w) for w in ("我们",)):
            continue
        found.append(CompanyFound(text[name_start:match.end()], confidence, name_start,
                                  match.end()))
    return found
