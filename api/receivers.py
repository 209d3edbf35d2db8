"""The api app's answers to slate, signature and pledge events (outbound webhooks)."""
