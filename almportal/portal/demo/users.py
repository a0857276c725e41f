"""The demo users: one or more per role, enough for the high tier's sign-offs under segregation of
duties (two compliance officers besides the owner, a security reviewer)."""

from django.contrib.auth.models import Group

from almportal.accounts.models import User
from almportal.accounts.roles import GROUP_NAMES, Role
from almportal.accounts.services import system_user
from almportal.core.lifecycle import record

# username, first name, last name, role, superuser and staff
DEMO_USERS = [
    ("owner", "Olivia", "Owens", Role.BUSINESS_OWNER, False),
    ("owner2", "Omar", "Okafor", Role.BUSINESS_OWNER, False),
    ("compliance", "Carla", "Conti", Role.COMPLIANCE, False),
    ("compliance2", "Chen", "Cruz", Role.COMPLIANCE, False),
    ("security", "Sam", "Sato", Role.SECURITY, False),
    ("security2", "Sofia", "Silva", Role.SECURITY, False),
    ("auditor", "Audrey", "Abara", Role.AUDITOR, False),
    ("admin", "Ada", "Admin", Role.ADMIN, True),
]


def demo_password(username: str) -> str:
    return f"demo-{username}"


def ensure_users() -> list[User]:
    """Create the demo users that do not exist yet; a user found by username is left as is."""
    created = []
    actor = system_user()
    for username, first, last, role, superuser in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        user = User(username=username, first_name=first, last_name=last,
                    email=f"{username}@demo.almportal.example", is_staff=superuser,
                    is_superuser=superuser)
        user.set_password(demo_password(username))
        record(user, actor=actor, reason=f"Demo data: {role.label.lower()} account")
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
        created.append(user)
    return created


def demo_users() -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(
        username__in=[name for name, *_ in DEMO_USERS])}


def login_table(users: list[User]) -> list[str]:
    roles = {username: role for username, *_, role, _ in DEMO_USERS}
    lines = ["Demo logins:", f"  {'username':<12} {'password':<18} role"]
    for user in users:
        lines.append(f"  {user.username:<12} {demo_password(user.username):<18} "
                     f"{roles[user.username].label}")
    return lines
