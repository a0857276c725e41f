from .roles import Role


def roles(request) -> dict:
    user = getattr(request, "user", None)
    user_roles = user.roles if user is not None and user.is_authenticated else frozenset()
    return {"user_roles": user_roles, "Role": Role}
