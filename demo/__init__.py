"""The demo: data for `make run` and for trying Slate by hand (``manage.py seed_demo``).

The top layer: it may import every app, and no app imports it. Everything is built through
the real services, so the demo's rows are in states real use reaches.

- ``story``: the demo slate's content and the demo logins;
- ``candidate_story``: the candidates' part (statements, reservations, asks, a decline);
- ``supporters``: the supporters and their pledges; ``clock``: the backdating clock;
- ``seed``: ``seed_demo``, the open demo slate; ``volunteers`` and ``record``: the parts seeded
  after it at the real time; ``released``: a slate locked and released (with a Stripe only);
  ``totp``: the demo accounts' published two-factor secret;
- ``cards``: test cards saved through the real card intake (the demo and the tests);
- ``builders``: slates, candidates and people built through the services, for the tests and
  the benchmarks as well.
"""
