"""huiyan scoring package."""
