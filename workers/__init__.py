"""huiyan workers package."""
