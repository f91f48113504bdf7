"""huiyan domain package."""
