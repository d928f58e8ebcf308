"""Small template helpers of the portal."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`{{ mapping|get_item:key }}`: a dict lookup with a variable key (None when missing)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
