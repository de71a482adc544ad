"""``flask kb import / export / search / evaluate``."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import db
from knowledge.models import Article, ArticleState
from knowledge.seed import starter_articles
from knowledge.transfer import HEADER

GOOD = ["续贷咨询", "银行不给续贷|资金周转困难", "第一段。\n\n- 第一项\n- 第二项", "请联系中心。",
        "要素保障", "融资", "区金融发展服务中心", "奉政办发〔2021〕35号 https://example.gov.cn/a",
        "2026-01-01", ""]


def write_csv(path: Path, rows: list[list[str]], header: tuple[str, ...] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["kb", *args])


def test_import_csv_publishes_with_all_fields(app: Any, tmp_path: Path
                                              ) -> None:
    result = run(app, "import", str(write_csv(tmp_path / "a.csv", [GOOD])))
    assert result.exit_code == 0, result.output
    assert "新建 1 条" in result.output
    article = db.session.scalars(select(Article)).one()
    assert article.state == ArticleState.PUBLISHED
    assert article.questions == ["银行不给续贷", "资金周转困难"]
    assert article.answer == "第一段。\n\n- 第一项\n- 第二项"  # line breaks inside a cell
    assert (article.category, article.subcategory) == ("factor", "finance")
    assert article.department.name == "区金融发展服务中心"
    assert (article.source_document, article.source_url) == (
        "奉政办发〔2021〕35号", "https://example.gov.cn/a")
    assert str(article.valid_from) == "2026-01-01" and article.valid_until is None


def test_import_reports_every_row_and_keeps_the_good_ones(app: Any, tmp_path: Path) -> None:
    bad_date = ["第二条", *GOOD[1:8], "2026/01/01", ""]
    bad_unit = ["另一条", "", "答复", "", "", "", "不存在的局", "", "", ""]
    no_answer = ["第三条", "", "", "", "火星类", "", "", "", "", ""]
    duplicate = list(GOOD)
    path = write_csv(tmp_path / "b.csv", [GOOD, bad_date, bad_unit, no_answer, duplicate])
    result = run(app, "import", str(path))
    assert result.exit_code == 1  # some rows were skipped
    lines = result.output.splitlines()
    assert "第2行 新建 《续贷咨询》" in lines
    assert "第3行 未导入 《第二条》" in lines and "    生效日期：日期格式应为 YYYY-MM-DD" in lines
    assert "    承办单位：没有名为“不存在的局”的单位" in lines
    assert "第5行 未导入 《第三条》" in lines and "    答复：请填写答复" in lines
    assert any(line.startswith("    类别：未知的类别“火星类”") for line in lines)
    assert "第6行 未导入 《续贷咨询》" in lines and "    标题：与第2行标题重复" in lines
    assert lines[-1] == "已导入（已发布）：共 5 行，新建 1 条，更新 0 条，未导入 4 行"
    assert db.session.scalars(select(Article.title)).all() == ["续贷咨询"]


def test_strict_import_keeps_nothing_while_a_row_is_bad(app: Any, tmp_path: Path) -> None:
    bad = ["另一条", "", "答复", "", "", "", "", "", "昨天", ""]
    result = run(app, "import", str(write_csv(tmp_path / "s.csv", [GOOD, bad])), "--strict")
    assert result.exit_code == 1
    assert "第2行 可导入 《续贷咨询》" in result.output
    assert "未导入（--strict）" in result.output
    assert db.session.scalar(select(func.count()).select_from(Article)) == 0


def test_import_reads_the_notices_own_words_for_areas(app: Any, tmp_path: Path) -> None:
    """电, 土地/厂房, 水、电、气, 排污: the notice's words for 水电气, 土地厂房, 道路排污."""
    def row(title: str, category: str, sub: str) -> list[str]:
        return [title, "", "答复。", "", category, sub, "", "", "", ""]

    rows = [row("用电", "要素保障", "电"), row("厂房", "", "土地、厂房"),
            row("水电气", "要素", "水、电、气"), row("排污", "要素保障", "排污"),
            row("人才", "", "人才"), row("混合", "要素保障", "电、排污"),
            row("产业", "政策咨询", "产业政策")]
    result = run(app, "import", str(write_csv(tmp_path / "n.csv", rows)))
    lines = result.output.splitlines()
    assert "第2行 新建 《用电》（子类“电”记为“水电气”）" in lines
    assert "第3行 新建 《厂房》（类别记为“要素保障”；子类“土地、厂房”记为“土地厂房”）" in lines
    assert ("第4行 新建 《水电气》（子类“水、电、气”记为“水电气”；类别“要素”记为“要素保障”）"
            in lines)
    assert "    类别：请填写类别（子类“人才”不能确定类别）" in lines  # 要素保障 or 政策咨询
    assert "    子类：“电、排污”分属不同的子类：道路排污、水电气，请只填一个" in lines
    areas = dict(db.session.execute(select(Article.title, Article.subcategory)).tuples().all())
    assert areas == {"用电": "utilities", "厂房": "land", "水电气": "utilities",
                     "排污": "roads", "产业": "industry"}


def test_import_header_must_match_exactly(app: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [GOOD], header=("标题", "答复"))
    result = run(app, "import", str(path))
    assert result.exit_code != 0 and "表头应为：标题,问题,答复" in result.output


def test_dry_run_and_draft(app: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [GOOD])
    assert "试导入" in run(app, "import", str(path), "--dry-run").output
    assert db.session.scalar(select(func.count()).select_from(Article)) == 0
    db.session.remove()  # end the read transaction so the CLI's commit is visible
    assert run(app, "import", str(path), "--draft").exit_code == 0
    assert db.session.scalars(select(Article.state)).one() == ArticleState.DRAFT


def test_reimport_updates_by_title(app: Any, tmp_path: Path) -> None:
    run(app, "import", str(write_csv(tmp_path / "e.csv", [GOOD])))
    changed = [GOOD[0], GOOD[1], "新的答复", *GOOD[3:]]
    result = run(app, "import", str(write_csv(tmp_path / "f.csv", [changed])))
    assert "更新 1 条" in result.output
    article = db.session.scalars(select(Article)).one()
    assert article.answer == "新的答复" and article.version == 2


def test_export_round_trips_through_xlsx_and_csv(app: Any, tmp_path: Path
                                                 ) -> None:
    book = Workbook()
    book.active.append(list(HEADER))
    book.active.append(GOOD)
    book.save(tmp_path / "in.xlsx")
    assert run(app, "import", str(tmp_path / "in.xlsx")).exit_code == 0
    assert "已导出 1 条" in run(app, "export", str(tmp_path / "out.xlsx")).output
    rows = [list(r) for r in load_workbook(tmp_path / "out.xlsx").active.iter_rows(
        values_only=True)]
    assert rows[0] == list(HEADER)
    assert [c or "" for c in rows[1]] == GOOD
    run(app, "export", str(tmp_path / "out.csv"))
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    assert next(csv.reader(raw.decode("utf-8-sig").splitlines())) == list(HEADER)


def test_search_json(app: Any, starter: Session) -> None:
    result = run(app, "search", "热线晚上有人接吗", "--json")
    hits = json.loads(result.output)
    assert hits[0]["title"] == "8718服务热线号码和服务时间"
    assert set(hits[0]) == {"id", "title", "score", "matched"}
    assert "热线" in hits[0]["matched"]
    plain = run(app, "search", "热线晚上有人接吗").output
    assert plain.startswith("1. [") and "命中：" in plain


def test_evaluate_the_shipped_sets(app: Any, starter: Session) -> None:
    """The goal on the tuning set; the held-out set (never tuned on) is reported as is."""
    result = run(app, "evaluate")
    assert result.exit_code == 0
    tuning, held_out = (line for line in result.output.splitlines()
                        if line.startswith(("tuning：", "held-out：")))
    figures = dict(re.findall(r"(recall@[13]|precision) = ([0-9.]+)", tuning))
    assert float(figures["recall@3"]) >= 0.95 and float(figures["precision"]) >= 0.9, tuning
    assert re.search(r"查询 (\d+) 条", tuning) and re.search(r"查询 (\d+) 条", held_out)
    total = sum(int(re.search(r"查询 (\d+) 条", line)[1]) for line in (tuning, held_out))
    answerable = sum(int(re.search(r"有答案 (\d+)", line)[1]) for line in (tuning, held_out))
    assert total >= 150 + 20 and answerable >= 150
    # The set written before the second round of tuning and never tuned on: reported as is.
    fresh = next(line for line in result.output.splitlines() if line.startswith("fresh："))
    assert int(re.search(r"查询 (\d+) 条", fresh)[1]) >= 40


def test_evaluate_a_file_lists_misses(app: Any, starter: Session, tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("query,expected_title\n热线号码,8718服务热线号码和服务时间\n"
                    "天气预报,中心提供哪些服务\n明天会下雨吗,\n", encoding="utf-8")
    result = run(app, "evaluate", str(path))
    first = result.output.splitlines()[0]
    assert first.startswith("q.csv：查询 3 条（有答案 2，无答案 1）")
    assert "recall@1 = 0.500" in first and "recall@3 = 0.500" in first
    assert "无答案判定 precision = 0.500  recall = 1.000" in first  # 天气预报 also got none
    assert "未命中  天气预报  期望：中心提供哪些服务  实得：（无结果）" in result.output
    path.write_text("q,t\n", encoding="utf-8")
    assert "表头应为 query,expected_title" in run(app, "evaluate", str(path)).output


def test_reindex_rebuilds_the_index(app: Any, starter: Session) -> None:
    before = run(app, "search", "借钱难", "--json").output
    result = run(app, "reindex")
    count = len(starter_articles()[1])
    assert result.exit_code == 0 and f"已重建索引：{count} 条" in result.output
    assert run(app, "search", "借钱难", "--json").output == before


def test_export_neutralises_formula_looking_cells(app: Any, tmp_path: Path) -> None:
    """An article whose text starts like a formula stays text in both exports (issue 25)."""
    hostile = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1|@SUM(A1)",
               "-cmd|' /C calc'!A0", *GOOD[3:]]
    assert run(app, "import", str(write_csv(tmp_path / "in.csv", [hostile]))).exit_code == 0
    assert db.session.scalars(select(Article.title)).one() == hostile[0]
    run(app, "export", str(tmp_path / "out.xlsx"))
    with zipfile.ZipFile(tmp_path / "out.xlsx") as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    cells = list(load_workbook(tmp_path / "out.xlsx").active.iter_rows())[1]
    assert [c.value for c in cells[:3]] == hostile[:3]  # displayed unchanged
    assert all(c.data_type == "s" and c.quotePrefix for c in cells[:3])
    run(app, "export", str(tmp_path / "out.csv"))
    rows = list(csv.reader((tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1][:3] == ["'" + v for v in hostile[:3]]
    db.session.remove()
    assert run(app, "import", str(tmp_path / "out.csv")).exit_code == 0  # the same article back
    article = db.session.scalars(select(Article)).one()
    assert (article.title, article.version) == (hostile[0], 1)
    assert article.questions == ["+1", "@SUM(A1)"] and article.answer == hostile[2]
