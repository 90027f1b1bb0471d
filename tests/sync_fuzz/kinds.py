"""The stage kinds the fuzz plays on: one module of operations each (see the package)."""

from tests.sync_fuzz import ideas as ideas_ops
from tests.sync_fuzz import journey as journey_ops
from tests.sync_fuzz import map as map_ops
from tests.sync_fuzz import reciprocal as reciprocal_ops
from tests.sync_fuzz import reviews as review_ops
from tests.sync_fuzz import sheets as sheet_ops
from tests.sync_fuzz import tensions as tension_ops
from tests.sync_fuzz import tree as tree_ops
from tests.sync_fuzz import wall as wall_ops

# Append yours (a new kind claims residues from the wall's).
KINDS = {
    ops.name: ops
    for ops in (
        wall_ops.KIND,
        map_ops.KIND,
        ideas_ops.KIND,
        journey_ops.KIND,
        tension_ops.KIND,
        sheet_ops.KIND,
        reciprocal_ops.KIND,
        tree_ops.KIND,
        review_ops.KIND,
    )
}

_claimed = [r for ops in KINDS.values() for r in ops.residues]
assert len(_claimed) == len(set(_claimed)), "two fuzz kinds claim the same seeds"
assert set(_claimed) <= set(range(10)), "residues are seed % 10"


def kind_of(seed):
    """The kind a seed's run plays on: the one that claims its last digit (`residues`),
    else the wall."""
    residue = seed % 10
    return next((ops for ops in KINDS.values() if residue in ops.residues), wall_ops.KIND)
