"""What typed text may contain: everything printable, emoji sequences included.

Control characters and bidirectional overrides (U+202E, U+2066…) are
dropped: they do nothing useful in a name or a post-it, and an override can
make a name read backwards or disguise the text that follows it. The
joiners that emoji sequences (👩‍💻) and some scripts need are kept, and so
are the tag characters of subdivision flags.
"""

JOINERS = frozenset({"\u200c", "\u200d"})  # zero-width non-joiner and joiner


def _kept(ch):
    return ch.isprintable() or ch in JOINERS or "\U000e0020" <= ch <= "\U000e007f"


def printable(text, keep="\n\t"):
    """`text` without its control and bidi-override characters (`keep` is kept)."""
    return "".join(ch for ch in text if ch in keep or _kept(ch))
