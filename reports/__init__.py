"""Supervision and reporting: indicators, the ledger export, the bulletin, accountability.

Reads cases and the call log; nothing outside this package (except the registries in
``app.py``, ``app.MODEL_MODULES``, the console blueprint and the periodic list) imports it.
"""
