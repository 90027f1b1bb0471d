import segno
from django.core.management.base import BaseCommand
from django.urls import reverse

from ._urls import FROM_LAN, FROM_PUBLIC_URL, chosen_base_url

# The QR code is drawn in explicit colours, so that it reads the same on a dark and
# on a light terminal theme. Colours 16 and 231 of the 256-colour palette are pure
# black and white, which themes do not remap (they do remap the 16 basic colours).
DARK, LIGHT = 16, 231
RESET = "\x1b[0m"
UPPER_HALF = "\u2580"  # ▀
QUIET_ZONE = 4  # modules of light margin a scanner needs around the code
INDENT = "  "


def terminal_qr(text):
    """`text` as a QR code, one terminal line per two rows of modules.

    A cell whose two modules differ is an upper half block: its foreground is
    the upper module, its background the lower one, so modules come out about
    square. Every line ends
    with a reset, so that no background colour spills to the end of the line.
    """
    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(border=QUIET_ZONE)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))  # one more light half row of margin
    lines = []
    for upper, lower in zip(rows[::2], rows[1::2], strict=True):
        cells, state = [], None
        for top, bottom in zip(upper, lower, strict=True):
            fg, bg = (DARK if top else LIGHT), (DARK if bottom else LIGHT)
            if fg == bg:
                # A space, not a half block in its own background: terminals that
                # enforce a minimum contrast would repaint that foreground grey.
                sgr, glyph = f"\x1b[48;5;{bg}m", " "
            else:
                sgr, glyph = f"\x1b[38;5;{fg};48;5;{bg}m", UPPER_HALF
            if sgr != state:
                cells.append(sgr)
                state = sgr
            cells.append(glyph)
        lines.append(INDENT + "".join(cells) + RESET)
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the address phones can reach, with a QR code to scan."

    def handle(self, *args, **options):
        url, why = chosen_base_url()
        join = url + reverse("join_code")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Réciproque is starting."))
        self.stdout.write(f"  Facilitator (this laptop): {url}/")
        self.stdout.write(f"  Participants (phones on the same Wi-Fi): {join}")
        if why == FROM_PUBLIC_URL:
            self.stdout.write("  Address: PUBLIC_URL is set, so links and the QR code use it.")
        elif why == FROM_LAN:
            self.stdout.write(
                "  Address: this machine's LAN address, on the network of its default route.\n"
                "  Set PUBLIC_URL if phones reach this machine at another address."
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    "  Address: no LAN address found (no network, or no default route), so\n"
                    "  127.0.0.1, which phones cannot reach. Join the venue Wi-Fi and restart,\n"
                    "  or set PUBLIC_URL."
                )
            )
        self.stdout.write("")
        # One write: OutputWrapper ends every write with a newline, which drawn row by
        # row put a blank line between rows and made the code unreadable.
        self.stdout.write(terminal_qr(join), ending="")
        self.stdout.write("")
