"""Jinja templates compiled once per suite instead of once per app.

Every test builds its own app, and each app's Jinja environment compiles a template again the
first time the test renders it (parse, then ``compile()`` of the generated module): the base
layout and its macros on nearly every console request. A bytecode cache shared by every app
of the session keeps the compiled code; Jinja checks each entry against the template's source
(a checksum), so an edited template is compiled again. Only the tests share it: a deployed
process builds one app and compiles each template once anyway.
"""

from __future__ import annotations

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory, for every Jinja environment given it."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


SHARED = SharedBytecodeCache()
