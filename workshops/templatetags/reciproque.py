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
