from django import template

from tongban.accounts.masking import masked_for as _masked_for

register = template.Library()


@register.filter(name="masked_for")
def masked_for(value, viewer):
    """`{{ number|masked_for:request.user }}`: full only for roles that need it (see accounts.masking)."""
    return _masked_for(viewer, value)


@register.filter(name="masked_id")
def masked_id(user, viewer):
    """`{{ person|masked_id:request.user }}`: that user's ID number, masked unless the viewer may see it."""
    return _masked_for(viewer, getattr(user, "id_number", ""))


@register.simple_tag(name="masked")
def masked(value, viewer, department=None):
    """`{% masked number request.user case.department %}`."""
    return _masked_for(viewer, value, department)
