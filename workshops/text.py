"""The one rule for typed text: what it may contain, and how long it may be.

Control characters and bidirectional overrides (U+202E, U+2066…) are
dropped: they do nothing useful in a name or a post-it, and an override can
make a name read backwards or disguise the text that follows it. The
joiners that emoji sequences (👩‍💻) and some scripts need are kept, and so
are the tag characters of subdivision flags.

The models carry `PrintableValidator` and their `max_length`; the actions,
the forms and the JSON import all clean with `clean_text()`, so no path
stores text that the others would refuse.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

JOINERS = frozenset({"\u200c", "\u200d"})  # zero-width non-joiner and joiner
MULTILINE = "\n\t"


def _kept(ch):
    # Spaces other than " " (French typography's no-break spaces before « : ; »)
    # are not `isprintable()`, yet are text.
    return (
        ch.isprintable()
        or ch in JOINERS
        or "\U000e0020" <= ch <= "\U000e007f"
        or unicodedata.category(ch) == "Zs"
    )


def printable(text, keep=MULTILINE):
    """`text` without its control and bidi-override characters (`keep` is kept)."""
    return "".join(ch for ch in text if ch in keep or _kept(ch))


def normalise(text, *, multiline=True):
    """Line breaks as "\\n" (counted once, as the browser counts them), nothing unprintable."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return printable(text, MULTILINE if multiline else "").strip()


def too_long(length, max_length):
    return _("Too long: %(length)d characters, %(max)d at most.") % {
        "length": length,
        "max": max_length,
    }


def clean_text(text, max_length, *, required=True, multiline=True, empty=None):
    """`text` as it may be stored, or `ValidationError` with a message for the writer."""
    if text is not None and not isinstance(text, str):
        raise ValidationError(_("This field must be text."), code="type")
    text = normalise(text, multiline=multiline)
    if required and not text:
        raise ValidationError(empty or _("Write something first."), code="required")
    if len(text) > max_length:
        raise ValidationError(too_long(len(text), max_length), code="max_length")
    return text


@deconstructible
class PrintableValidator:
    """On the models: text holds nothing that `clean_text` would have dropped."""

    message = gettext_lazy("This text holds invisible or control characters.")
    code = "printable"

    def __init__(self, multiline=True):
        self.multiline = multiline

    def __call__(self, value):
        if value and printable(value, MULTILINE if self.multiline else "") != value:
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, PrintableValidator) and other.multiline == self.multiline


validate_printable = PrintableValidator()
validate_printable_line = PrintableValidator(multiline=False)
# Keys that name things in config and URLs (kinds, columns): letters, digits, "-" and "_".
KEY_RE = r"^[a-z0-9][a-z0-9_-]*\Z"
validate_key = RegexValidator(
    KEY_RE, gettext_lazy("Use lowercase letters, digits, “-” and “_” only."), "key"
)


def clean_key(value, max_length=40):
    """A key from outside (an import, a form): checked, never rewritten."""
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError(_("Not a valid key: %(key)s") % {"key": str(value)[:40]}, "key")
    validate_key(value)
    return value
