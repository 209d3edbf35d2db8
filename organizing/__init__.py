"""Web pages for organizers (URL namespace ``organize``) and partner organizations (``orgs``).

They read and write across slate, candidates and pledges, so they sit above all three (as
escrow does). Views stay thin: permissions here, reads in selectors, writes in services.
"""
