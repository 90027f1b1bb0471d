"""A live page's regions, compared as trees: shared by the stage-kind contract test and
the sync fuzz, which both ask whether a page that followed the pushes shows what a fresh
render shows.

Attributes are sorted, whitespace folded, and the operation ids a form gets fresh at
each render and the CSRF tokens of fetched fragments left out.
"""

import difflib

# What a snapshot draws on a page (workshops.live.regions.render_snapshot).
REGION_IDS = ("live", "stage-list", "controls", "done-count", "done-button")


def canon(node):
    from tests.faults.model import Node

    if not isinstance(node, Node):
        text = " ".join(str(node).split())
        return text or None
    attrs = dict(node.attrs)
    if node.tag == "input" and attrs.get("name") == "csrfmiddlewaretoken":
        return None  # per request: a fetched fragment has one, a push none (live.js: a header)
    if node.tag == "input" and attrs.get("name") == "op_id":
        attrs.pop("value", None)
    children = [c for c in (canon(child) for child in node.children) if c is not None]
    return (node.tag, tuple(sorted(attrs.items())), tuple(children))


def lines(tree, depth=0):
    """A region tree as indented lines, for a readable diff."""
    if isinstance(tree, dict):
        return [line for ident, sub in tree.items() for line in [f"#{ident}", *lines(sub, 1)]]
    if not isinstance(tree, tuple):
        return ["  " * depth + repr(tree)]
    tag, attrs, children = tree
    head = "  " * depth + f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs)}>"
    return [head, *(line for child in children for line in lines(child, depth + 1))]


def regions(board, idents=REGION_IDS):
    """{region id: its tree} for every region the board has (None where it has none)."""
    return {ident: canon(board.by_id(ident)) for ident in idents}


def region_diff(fresh, seen, fresh_name="fresh", seen_name="replayed"):
    """A unified diff of two `regions()` results ("" when they are the same)."""
    if fresh == seen:
        return ""
    return "\n".join(difflib.unified_diff(lines(fresh), lines(seen), fresh_name, seen_name, n=2))
