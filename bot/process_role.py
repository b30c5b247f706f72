"""Who this process is to the others sharing the database, and what it does (issue 26).

Several identical `ourvoice run` processes share one database: each names itself `host:pid:random` when it claims
outbox rows or holds the Telegram polling lease, and a successor on the same host can prove a named process is gone
(`holder_gone`) and take its work over at once instead of waiting for its claims to run out. `ROLE` is what
GET /healthz reports.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field

_OURS: set[str] = set()  # holder names made in this process (several senders may run in one process)


def new_holder() -> str:
    """A holder name an operator can read: host, process id and a random part."""
    name = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _OURS.add(name)
    return name


def holder_gone(name: str) -> bool:
    """True only when the holder provably no longer runs: it was on this host and its process id is free, or
    is this process's own id while the name is none of ours (a restarted container gets the same id back).
    Anything else (another host, an id now in use) is left to its claim or lease running out."""
    host, _, rest = name.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:30] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return name not in _OURS
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (perhaps as another user)
    return False


@dataclass
class Role:
    """What this process does right now, for GET /healthz and the logs."""

    polling: dict[str, bool] = field(default_factory=dict)  # channel -> holds the polling lease
    senders: dict[str, str] = field(default_factory=dict)  # channel -> the name its outbox claims carry
    scheduler: str = "off"  # "claims": runs the scheduler, each occurrence claimed in the database

    def report(self) -> dict[str, object]:
        return {"pid": os.getpid(), "polling": dict(self.polling), "senders": dict(self.senders),
                "scheduler": self.scheduler}


ROLE = Role()
