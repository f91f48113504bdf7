"""huiyan ledger package."""
