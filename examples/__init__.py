"""Examples of clients of skyhawk (not part of the deployed service)."""
