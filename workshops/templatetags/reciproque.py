import re
import secrets

from django import template

register = template.Library()


@register.filter
def lookup(mapping, key):
    """{{ labels|lookup:postit.column }}: a dict entry by a variable key."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.simple_tag
def new_op_id():
    """A fresh operation id for a form that also works without JavaScript."""
    return secrets.token_hex(16)


_IN_A_WORKSHOP = re.compile(r"^/(?:w|workshops)/(\d+)/")


@register.simple_tag(takes_context=True)
def way_back(context):
    """The error pages' way back: the workshop the address was in, or None.

    Only the address is read, never the database: an error page must not fail
    in turn. A phone goes back to its live page, the facilitator to the console.
    """
    request = context.get("request")
    match = _IN_A_WORKSHOP.match(getattr(request, "path", "") or "")
    if not match:
        return None
    prefix = "w" if request.path.startswith("/w/") else "workshops"
    back = f"/{prefix}/{match.group(1)}/"
    return None if request.path == back else back  # the page itself failed: no loop


@register.filter
def links_of(links, obj):
    """{% include "workshops/_trace.html" with links=links|links_of:postit %}: one object's
    chips from a board's `trace.links_for()` (none when the board read no links)."""
    from workshops.trace import NO_LINKS

    if links is None or obj is None or links == "":
        return NO_LINKS
    try:
        return links[obj]
    except (KeyError, TypeError):
        return NO_LINKS


@register.filter
def trace_ref(obj):
    """{{ postit|trace_ref }}: the document-wide name of an object ("journeys.postit:12")."""
    from workshops.trace import ref

    return ref(obj)


@register.simple_tag
def console_tools():
    """The templates apps add to the console's stage list (registry.register_console_tool)."""
    from ..registry import console_tools as tools

    return tools()


@register.simple_tag
def phone_tools():
    """The templates apps add to the phone's footer (registry.register_phone_tool)."""
    from ..registry import phone_tools as tools

    return tools()


@register.simple_tag
def method_variants(workshop, stages):
    """The optional stages the workshop's method offers and it does not have yet (no query)."""
    from ..methods import variants_for

    return variants_for(workshop.method, workshop.language, {s.kind for s in stages})
