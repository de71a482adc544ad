"""Cases (诉求 / work orders): intake, the steps after it (``cases.actions``), deadlines, states,
ledger, audit."""
