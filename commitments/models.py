"""The commitments app's models live in one module per topic; they are gathered here.

Each topic (ideas and votes, action sheets, reciprocal commitments and the
promise, the commitment tree) adds one import line below.
"""

from .ideas.models import Challenge, Idea  # noqa: F401
from .promise.models import Paragraph, Promise, PromiseCommitment, PromiseSignature  # noqa: F401
from .reciprocal.models import Holder, Row  # noqa: F401
from .sheets.models import ActionSheet, Signature  # noqa: F401
from .tree.models import Commitment  # noqa: F401
from .votes.models import Dot, Vote  # noqa: F401
