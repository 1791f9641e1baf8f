"""What a public link points at, and this process's short-lived copy of anonymous links.

The copy is the one cache of the public forms. Why it pays: a post through an anonymous link would
otherwise read the link, its wave, organization and instrument again, for data that changes a few times
in a wave's life: a customer form post costs 3.5 ms of CPU with the copy, 6.5 ms without (bench/caches.py,
2026-12-07: PostgreSQL 15 and Redis, 2 shared AMD EPYC cores at load average ~7).
Its invalidation is registered in surveys.apps.SurveysConfig.ready().
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from surveys import errors
from surveys.models import AnonymousLink, Invitation, Side, Wave
from surveys.public import tickets


@dataclass
class Target:
    """What a public link points at."""

    wave: Wave
    side: str
    invitation: Invitation | None = None
    link_id: int | None = None  # the anonymous link's

    @property
    def anonymous(self) -> bool:
        return self.invitation is None

    @property
    def guarded(self) -> bool:
        """Submissions need a ticket and count against the per-address cap (the staff anonymous link)."""
        return tickets.guarded(self.side, anonymous=self.anonymous)


# Anonymous links this process resolved lately: (slug, side) → (when, target). A post may use a copy up
# to RECENT_LINK_SECONDS old instead of reading the link, its wave, organization and instrument again
# (3 ms of CPU per post, see above). Closing is still exact: response_submit's INSERT re-checks, in the
# database, that the wave is open and the link active, and a refused post reads the link afresh; only
# open waves are kept, so a reopened wave takes posts at once. What a copy may show for those seconds
# are the wave's other settings (languages, segment fields, names, even a slug renamed meanwhile) as
# they were: each gunicorn worker has its own copy and no signal reaches it, hence the short life.
RECENT_LINK_SECONDS = 2.0
_recent_links: dict[tuple[str, str], tuple[float, Target]] = {}


def resolve_anonymous(slug: str, side: str, *, recent: bool = False) -> Target:
    """The wave and side of an anonymous link, or NotFound / WaveNotCollecting.

    ``recent``: this process's copy of at most RECENT_LINK_SECONDS ago will do (for posts, whose
    INSERT checks the wave and link again).
    """
    if side not in Side.values:
        raise errors.NotFound()
    now = time.monotonic()
    if recent:
        kept = _recent_links.get((slug, side))
        if kept is not None and now - kept[0] < RECENT_LINK_SECONDS:
            return Target(wave=kept[1].wave, side=side, link_id=kept[1].link_id)
    try:
        link = AnonymousLink.objects.select_related("wave", "wave__organization", "wave__instrument").get(
            wave__slug=slug, side=side)
    except AnonymousLink.DoesNotExist:  # (wave slug, side) is unique: never more than one
        _recent_links.pop((slug, side), None)
        raise errors.NotFound() from None
    if not link.is_active:
        _recent_links.pop((slug, side), None)
        raise errors.WaveNotCollecting()
    target = Target(wave=link.wave, side=side, link_id=link.pk)
    if not target.wave.is_collecting:
        # Only an open wave is kept: the INSERT's guard catches a wave closed since, but nothing
        # would catch one reopened since.
        _recent_links.pop((slug, side), None)
        return target
    if len(_recent_links) > 1000:  # links nobody posts to any more
        for key in [k for k, (when, _t) in _recent_links.items() if now - when >= RECENT_LINK_SECONDS]:
            _recent_links.pop(key, None)
    _recent_links[(slug, side)] = (now, target)
    return target


def forget_recent_links(**kwargs) -> None:
    """Drop every kept link. Connected (SurveysConfig.ready) to the saves and deletions of waves and links:
    the process that changes one sees the change at once (the other processes within RECENT_LINK_SECONDS)."""
    _recent_links.clear()


def forget_recent_link(slug: str, side: str) -> None:
    """Drop the kept copy of one link (a post it refused reads it afresh next time)."""
    _recent_links.pop((slug, side), None)
