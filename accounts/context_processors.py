from django.utils.functional import SimpleLazyObject


def workspace(request):
    membership = getattr(request, "membership", None)
    return {
        "membership": membership,
        # Lazy, as the membership is: a fragment that never asks (a table cell's answer) costs
        # no query.
        "can_edit": SimpleLazyObject(lambda: bool(membership) and membership.can_edit),
    }
