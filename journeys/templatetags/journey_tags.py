from django import template

register = template.Library()


@register.filter
def trace_of(links, obj):
    """{{ links|trace_of:postit }}: an object's trace links (workshops.trace.LinkMap)."""
    try:
        return links[obj]
    except (KeyError, TypeError, AttributeError):
        return None
