"""Every staff use case, once: each action takes the signed-in `Actor`, applies the role and district rules
in `policy.py`, works through storage query functions and writes its one audit row.

The admin web routes and the `ourvoice` CLI commands only parse input, call an action and render its result.
Nothing here renders HTML, prints, reads the clock or imports sqlmodel/sqlalchemy.
"""
