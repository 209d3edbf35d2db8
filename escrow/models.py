# The escrow app (Stripe customers, holds, captures, payouts, the ledger and webhooks) is
# built on top of pledges; see the escrow issue. It subscribes to slate.events.slate_locked.
