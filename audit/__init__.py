"""huiyan audit package."""
