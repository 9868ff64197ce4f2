"""Collections models, one module per concern; each module's models are re-exported here.

Disputes and promises to pay are shared by the worklist, dunning, the reserve and write-offs:
they are the amounts that are not chased (dunning) or not written off while open.
"""

from .activities import Activity, ActivityKind, ActivityOutcome  # noqa: F401
from .agency import Agency, Placement, PlacementItem, Recovery  # noqa: F401
from .credit_holds import CreditHold, CreditHoldPolicy  # noqa: F401
from .disputes import Dispute, DisputeLine, DisputeReason, DisputeStatus  # noqa: F401
from .dunning import (  # noqa: F401,E501
    DunningExclusion,
    DunningLetter,
    DunningLetterItem,
    DunningLevel,
    DunningPolicy,
    DunningRun,
    DunningSkip,
)
from .portfolio import AssignmentRule, CollectorAssignment, CollectorAssignmentChange, CustomerSize  # noqa: F401
from .promises import PromiseItem, PromiseStatus, PromiseToPay  # noqa: F401
from .reserve import (  # noqa: F401
    ProvisionPolicy,
    ProvisionRate,
    ReserveLine,
    ReserveMethod,
    ReserveRun,
    ReserveSegment,
    SpecificReason,
    SpecificReserve,
)
from .writeoffs import (  # noqa: F401
    RecoveryMode,
    WriteOff,
    WriteOffApproval,
    WriteOffAttachment,
    WriteOffBatch,
    WriteOffLine,
    WriteOffPolicy,
    WriteOffReason,
    WriteOffRecovery,
    WriteOffStatus,
)
