"""Cases (诉求 / work orders): intake, lifecycle, deadlines, routing, ledger, KPIs."""
