def workspace(request):
    membership = getattr(request, "membership", None)
    return {
        "membership": membership,
        "can_edit": bool(membership) and membership.can_edit,
    }
