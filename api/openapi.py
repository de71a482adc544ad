"""The OpenAPI 3 document of ``/api/v1``, generated from the same field list that validates."""

from __future__ import annotations

from typing import Any

from api.schemas import CASE_FIELDS, MAX_BODY_BYTES, Field
from cases.vocab import CHANNEL_LABELS, Ledger, Mode, Status
from knowledge.api import add_to_openapi

VERSION = "1.0.0"


def _field_schema(spec: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "description": spec.description,
                              "maxLength": spec.max_length}
    if spec.enum:
        schema["enum"] = list(spec.enum)
    if spec.format:
        schema["format"] = spec.format
    if spec.example:
        schema["example"] = spec.example
    return schema


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def document() -> dict[str, Any]:
    """The OpenAPI document served at ``/api/v1/openapi.json``."""
    summary = {
        "number": _string("诉求编号（纯数字：受理日期YYMMDD + 当日序号）", example="2610080001"),
        "channel": _string("受理渠道（由令牌决定）", enum=list(CHANNEL_LABELS)),
        "channel_label": _string("受理渠道名称"),
        "status": _string("状态", enum=[s.value for s in Status]),
        "status_label": _string("状态名称"),
        "received_at": _string("受理时间", format="date-time"),
        "due_date": {**_string("办理期限", format="date"), "nullable": True},
        "due_provisional": {"type": "boolean",
                            "description": "期限按临时推算的工作日历计算，可能调整"},
    }
    cases_document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "奉化8718企业诉求受理接口",
            "version": VERSION,
            "description": (
                "供区中小企业公共服务平台、8718微信公众号、甬企码等渠道提交企业诉求并查询办理进度。"
                "每个渠道使用自己的令牌（Authorization: Bearer …），令牌决定受理渠道。"
                f"请求体为JSON，不超过{MAX_BODY_BYTES // 1024}KB。"
                "提交时可带 Idempotency-Key 请求头：同一个键重复提交相同内容返回第一次的结果，"
                "内容不同则返回409。"
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/cases": {
                "post": {
                    "summary": "提交诉求",
                    "operationId": "createCase",
                    "parameters": [{
                        "name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                        "description": "客户端生成的唯一键，用于安全重试",
                    }],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/CaseRequest"}}}},
                    "responses": {
                        "201": {"description": "已受理",
                                "headers": {"Location": {"schema": {"type": "string"}}},
                                "content": {"application/json": {"schema": {
                                    "$ref": "#/components/schemas/CaseCreated"}}}},
                        "400": _error("请求体不是有效的JSON"),
                        "401": _error("缺少或无效的令牌"),
                        "409": _error("Idempotency-Key 已用于另一个请求"),
                        "413": _error("请求体过大"),
                        "415": _error("请求体不是JSON"),
                        "422": _error("字段有误，fields 中按字段名列出原因"),
                    },
                },
            },
            "/cases/{number}": {
                "get": {
                    "summary": "查询诉求办理进度（仅限本渠道提交的诉求）",
                    "operationId": "getCase",
                    "parameters": [{"name": "number", "in": "path", "required": True,
                                    "schema": {"type": "string", "pattern": "^[0-9]{10,11}$"}}],
                    "responses": {
                        "200": {"description": "诉求状态", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/CaseStatus"}}}},
                        "401": _error("缺少或无效的令牌"),
                        "404": _error("未找到该诉求"),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "CaseRequest": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [n for n, f in CASE_FIELDS.items() if f.required],
                    "properties": {n: _field_schema(f) for n, f in CASE_FIELDS.items()},
                },
                "CaseCreated": {
                    "type": "object",
                    "required": list(summary),
                    "properties": {
                        **summary,
                        "warnings": {"type": "array", "items": {"type": "string"},
                                     "description": "提示（代码校验位不符为422错误）"},
                    },
                },
                "CaseStatus": {
                    "type": "object",
                    "properties": {
                        **summary,
                        "category": {"type": "string", "nullable": True},
                        "subcategory": {"type": "string", "nullable": True},
                        "mode": {**_string("办理方式", enum=[m.value for m in Mode]),
                                 "nullable": True},
                        "mode_label": {"type": "string", "nullable": True},
                        "ledger_state": _string("台账状态", enum=[s.value for s in Ledger]),
                        "ledger_label": _string("台账状态名称"),
                        "departments": {"type": "array", "items": {
                            "$ref": "#/components/schemas/Department"}},
                        "merged_into": {**_string("并单：本诉求并入的此前诉求编号"),
                                        "nullable": True},
                        "last_reply": {"allOf": [{"$ref": "#/components/schemas/Reply"}],
                                       "nullable": True},
                    },
                },
                "Department": {
                    "type": "object",
                    "properties": {
                        "name": _string("承办单位"),
                        "role": _string("lead 承办单位 / co 共同承办单位", enum=["lead", "co"]),
                        "role_label": _string("角色名称"),
                        "state": _string("交办状态"),
                        "state_label": _string("交办状态名称"),
                        "due_date": {**_string("办理期限", format="date"), "nullable": True},
                    },
                },
                "Reply": {
                    "type": "object",
                    "properties": {
                        "kind": _string("answer 答复 / explanation 解释说明 / progress 进度反馈",
                                        enum=["answer", "explanation", "progress"]),
                        "kind_label": _string("答复类型名称"),
                        "text": _string("答复内容"),
                        "policy_basis": {**_string("解释说明所依据的政策"), "nullable": True},
                        "department": _string("答复单位"),
                        "replied_at": _string("答复时间", format="date-time"),
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": _string("机器可读的错误码"),
                            "message": _string("中文说明"),
                            "fields": {"type": "object",
                                       "additionalProperties": {"type": "string"},
                                       "description": "字段名 → 错误原因"},
                        },
                    }},
                },
            },
        },
    }
    return add_to_openapi(cases_document)
