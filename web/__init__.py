"""huiyan web package."""
