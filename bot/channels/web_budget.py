"""How much the web chat reads from people who have not joined yet: a small budget of messages and characters
per browser cookie and per network address in a sliding window, so nobody with only a cookie can make the risk
check read megabytes a minute. Pure and in memory (per process); it must not touch storage or read clocks.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Allowance:
    """What one key (a cookie, or an address) may send before joining, per `window`."""

    messages: int
    chars: int
    window: timedelta = timedelta(minutes=10)


# A person joining sends one or two short messages ("/start CODE", a question); a family or a children's home
# may share one address, so the address gets more than a cookie.
PER_COOKIE = Allowance(messages=20, chars=20_000)
PER_ADDRESS = Allowance(messages=60, chars=60_000)
MAX_KEYS = 50_000  # keys remembered at once (oldest forgotten first): memory stays bounded
MAX_JOINED = 200_000


@dataclass
class _Spent:
    events: deque[tuple[datetime, int]] = field(default_factory=deque)
    chars: int = 0

    def prune(self, now: datetime, window: timedelta) -> None:
        while self.events and now - self.events[0][0] >= window:
            _, n = self.events.popleft()
            self.chars -= n


class UnjoinedBudget:
    """Charges messages from senders not known to have joined; refuses once a cookie or address is spent."""

    def __init__(self, per_cookie: Allowance = PER_COOKIE, per_address: Allowance = PER_ADDRESS) -> None:
        self.per = {"cookie": per_cookie, "address": per_address}
        self._spent: OrderedDict[tuple[str, str], _Spent] = OrderedDict()
        self._joined: OrderedDict[str, None] = OrderedDict()

    def joined(self, cookie: str) -> bool:
        return cookie in self._joined

    def mark_joined(self, cookie: str) -> None:
        """This cookie belongs to a participant: its messages are no longer charged."""
        self._joined[cookie] = None
        self._joined.move_to_end(cookie)
        while len(self._joined) > MAX_JOINED:
            self._joined.popitem(last=False)
        self._spent.pop(("cookie", cookie), None)

    def forget(self, cookie: str) -> None:
        """This browser chose "forget this device": it is charged again like anyone not yet joined."""
        self._joined.pop(cookie, None)

    def charge(self, *, cookie: str, address: str, chars: int, now: datetime) -> bool:
        """Record one message of `chars` characters; False (and nothing recorded) if it would go over budget."""
        if self.joined(cookie):
            return True
        keys = [("cookie", cookie), ("address", address)]
        spent = []
        for key in keys:
            s = self._spent.get(key) or _Spent()
            allowance = self.per[key[0]]
            s.prune(now, allowance.window)
            if len(s.events) + 1 > allowance.messages or s.chars + chars > allowance.chars:
                return False
            spent.append((key, s))
        for key, s in spent:
            s.events.append((now, chars))
            s.chars += chars
            self._spent[key] = s
            self._spent.move_to_end(key)
        while len(self._spent) > MAX_KEYS:
            self._spent.popitem(last=False)
        return True
