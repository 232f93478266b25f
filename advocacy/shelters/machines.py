"""The shelter network's state machines: beds, holds and referrals, one table each.

The bed table is also the vocabulary of the availability history: each
event's ``action`` is one of its actions, and the history page reads its
label from here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from advocacy.shelters.models import BedState, HoldStatus, ReferralStatus
from advocacy.states import Machine, Transition

B = BedState
H = HoldStatus
R = ReferralStatus

BED = Machine(
    "bed",
    BedState,
    [
        Transition("bed.added", (None,), B.AVAILABLE, _l("Bed added")),
        Transition("hold.placed", (B.AVAILABLE,), B.HELD, _l("Hold placed"), audit="hold.placed"),
        Transition("hold.extended", (B.HELD,), B.HELD, _l("Hold extended"), audit="hold.extended"),
        Transition("hold.released", (B.HELD,), B.AVAILABLE, _l("Hold released"), audit="hold.released"),
        # Nobody acted: the app noticed the time had passed.
        Transition("hold.expired", (B.HELD,), B.AVAILABLE, _l("Hold expired")),
        Transition(
            "stay.checked_in",
            (B.HELD, B.AVAILABLE),
            B.OCCUPIED,
            _l("Household checked in"),
            "stay.checked_in",
        ),
        Transition(
            "stay.checked_out", (B.OCCUPIED,), B.AVAILABLE, _l("Household checked out"), "stay.checked_out"
        ),
        Transition(
            "bed.out_of_service",
            (B.AVAILABLE,),
            B.OUT_OF_SERVICE,
            _l("Taken out of service"),
            "bed.out_of_service",
        ),
        Transition(
            "bed.back_in_service",
            (B.OUT_OF_SERVICE,),
            B.AVAILABLE,
            _l("Back in service"),
            "bed.back_in_service",
        ),
        Transition("referral.declined", (B.HELD,), B.AVAILABLE, _l("Referral declined"), "referral.declined"),
        Transition(
            "referral.cancelled",
            (B.HELD,),
            B.AVAILABLE,
            _l("Referral cancelled by the referring agency"),
            "referral.cancelled",
        ),
    ],
)

HOLD = Machine(
    "hold",
    HoldStatus,
    [
        Transition("place", (None,), H.ACTIVE, _l("Hold placed")),
        Transition("extend", (H.ACTIVE,), H.ACTIVE, _l("Hold extended")),
        Transition("release", (H.ACTIVE,), H.RELEASED, _l("Hold released")),
        Transition("expire", (H.ACTIVE,), H.EXPIRED, _l("Hold expired")),
        Transition("check_in", (H.ACTIVE,), H.CHECKED_IN, _l("Household checked in")),
    ],
)

#: A referral is open while it holds beds: waiting for the shelter, or accepted.
OPEN_REFERRAL = (R.PENDING, R.ACCEPTED)

REFERRAL = Machine(
    "referral",
    ReferralStatus,
    [
        Transition("create", (None,), R.PENDING, _l("Referral asked for"), "referral.created"),
        Transition("accept", (R.PENDING,), R.ACCEPTED, _l("Referral accepted"), "referral.accepted"),
        # Only before it is accepted: an accepted household is expected (staff release the hold instead).
        Transition("decline", (R.PENDING,), R.DECLINED, _l("Referral declined"), "referral.declined"),
        # By the referring agency, or by staff releasing the hold it made.
        Transition("cancel", OPEN_REFERRAL, R.CANCELLED, _l("Referral cancelled")),
        Transition("expire", OPEN_REFERRAL, R.EXPIRED, _l("Referral expired")),
        Transition("arrive", OPEN_REFERRAL, R.ARRIVED, _l("Household arrived")),
    ],
)
