"""The console's accounts and sign-in, for the call page's live transcript."""

from tests.console.conftest import accounts, app_config, password_hash, sign_in

__all__ = ["accounts", "app_config", "password_hash", "sign_in"]
