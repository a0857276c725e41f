"""SCIM 2.0 (RFC 7643/7644) for the identity provider: /scim/v2/Users and /scim/v2/Groups,
with the filters and PATCH forms that Entra ID and Okta send. Authenticated by an API token
with the `scim` scope; every write goes through accounts.provisioning."""

import re
from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from rest_framework import exceptions, parsers, permissions, renderers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..core.api import exception_handler
from ..core.errors import DomainError
from .authentication import ApiTokenAuthentication
from .models import ApiToken, DirectoryGroup, IdentitySource, TokenScope, User
from .provisioning import (
    PersonData,
    directory_groups,
    group_create,
    group_delete,
    group_update,
    person_create,
    person_update,
    provisioned_people,
)
from .rules import may_provision

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_PAGE = 200
FILTER = re.compile(r'^\s*([\w.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
MEMBER_PATH = re.compile(r'^members\[value eq "([^"]+)"\]$', re.IGNORECASE)


class ScimError(exceptions.APIException):
    def __init__(self, detail: str, status_code: int = 400, scim_type: str = "") -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.scim_type = scim_type


def scim_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        scim_type = "uniqueness" if exc.status_code == 409 else "invalidValue"
        exc = ScimError(exc.message, exc.status_code, scim_type)
    elif isinstance(exc, exceptions.ParseError):
        exc = ScimError(str(exc.detail), 400, "invalidSyntax")
    response = exception_handler(exc, context)
    if response is None:
        return None
    body = {"schemas": [ERROR_SCHEMA], "status": str(response.status_code),
            "detail": str(response.data.get("detail", "Invalid request."))}
    if getattr(exc, "scim_type", ""):
        body["scimType"] = exc.scim_type
    response.data = body
    return response


class ScimJSONParser(parsers.JSONParser):
    media_type = "application/scim+json"


class ScimJSONRenderer(renderers.JSONRenderer):
    media_type = "application/scim+json"


class ScimScopePermission(permissions.BasePermission):
    """A token with the `scim` scope, held by an active service account (or an admin)."""

    message = "SCIM needs an API token with the scim scope."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        return (isinstance(token, ApiToken) and token.allows(TokenScope.SCIM)
                and may_provision(request.user))


class ScimView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated, ScimScopePermission]
    parser_classes = [ScimJSONParser, parsers.JSONParser]
    renderer_classes = [ScimJSONRenderer, renderers.JSONRenderer]
    required_scope = TokenScope.SCIM
    schema = None  # SCIM has its own schemas (RFC 7643); not part of the portal's OpenAPI

    def get_exception_handler(self):
        return scim_exception_handler

    def body(self) -> dict:
        if not isinstance(self.request.data, dict):
            raise ScimError("The body must be a JSON object.", 400, "invalidSyntax")
        return self.request.data


# --- Representations ---------------------------------------------------------------------------

def _location(request, name: str, pk) -> str:
    return request.build_absolute_uri(reverse(name, args=[pk]))


def user_resource(request, user: User) -> dict:
    scim_link = next((link for link in user.external_identities.all()
                      if link.source == IdentitySource.SCIM), None)
    resource = {
        "schemas": [USER_SCHEMA], "id": str(user.pk), "userName": user.username,
        "name": {"givenName": user.first_name, "familyName": user.last_name,
                 "formatted": user.get_full_name()},
        "displayName": str(user), "active": user.is_active,
        "emails": [{"value": user.email, "type": "work", "primary": True}] if user.email else [],
        "groups": [{"value": str(g.scim_id), "display": g.display_name}
                   for g in user.directory_groups.all() if g.active],
        "meta": {"resourceType": "User", "created": user.date_joined.isoformat(),
                 "location": _location(request, "scim-user", user.pk)},
    }
    if scim_link is not None and scim_link.subject != user.username:
        resource["externalId"] = scim_link.subject
    return resource


def group_resource(request, group: DirectoryGroup) -> dict:
    resource = {
        "schemas": [GROUP_SCHEMA], "id": str(group.scim_id), "displayName": group.display_name,
        "members": [{"value": str(u.pk), "display": u.username} for u in group.members.all()],
        "meta": {"resourceType": "Group", "created": group.created_at.isoformat(),
                 "location": _location(request, "scim-group", group.scim_id)},
    }
    if group.external_id:
        resource["externalId"] = group.external_id
    return resource


def _page(request, queryset, to_resource) -> Response:
    try:
        start = max(int(request.query_params.get("startIndex", 1)), 1)
        count = min(max(int(request.query_params.get("count", 100)), 0), MAX_PAGE)
    except ValueError as exc:
        raise ScimError("startIndex and count must be integers.", 400, "invalidValue") from exc
    total = queryset.count()
    items = list(queryset[start - 1:start - 1 + count]) if count else []
    return Response({"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
                     "itemsPerPage": len(items),
                     "Resources": [to_resource(request, item) for item in items]})


def _filtered(request, queryset, fields: dict[str, str]):
    expression = request.query_params.get("filter")
    if not expression:
        return queryset
    match = FILTER.match(expression)
    lookup = fields.get(match.group(1).lower()) if match else None
    if match is None or lookup is None:
        raise ScimError("Only 'attribute eq \"value\"' filters on "
                        + ", ".join(fields) + " are supported.", 400, "invalidFilter")
    return queryset.filter(**{lookup: match.group(2).replace('\\"', '"')}).distinct()


# --- Users -------------------------------------------------------------------------------------

def _as_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ScimError("active must be true or false.", 400, "invalidValue")


def _as_str(value, name: str) -> str:
    if not isinstance(value, str):
        raise ScimError(f"{name} must be a string.", 400, "invalidValue")
    return value


def _primary_email(emails) -> str:
    if not isinstance(emails, list) or not all(isinstance(e, dict) for e in emails):
        raise ScimError("emails must be a list of objects.", 400, "invalidValue")
    chosen = next((e for e in emails if e.get("primary")), emails[0] if emails else {})
    return _as_str(chosen.get("value", ""), "emails.value")


def person_data(attributes: dict) -> PersonData:
    """Known attributes of a User resource, or of a PATCH value keyed by path. Attributes the
    portal does not keep (title, phone numbers, enterprise extension) are ignored."""
    data = PersonData()
    for key, value in attributes.items():
        key_lower = key.lower()
        if key_lower == "username":
            data.username = _as_str(value, "userName")
        elif key_lower == "externalid":
            data.external_id = _as_str(value, "externalId")
        elif key_lower == "active":
            data.active = _as_bool(value)
        elif key_lower == "name" and isinstance(value, dict):
            nested = person_data({f"name.{k}": v for k, v in value.items()})
            data.first_name, data.last_name = nested.first_name, nested.last_name
        elif key_lower == "name.givenname":
            data.first_name = _as_str(value, "name.givenName")
        elif key_lower == "name.familyname":
            data.last_name = _as_str(value, "name.familyName")
        elif key_lower == "emails":
            data.email = _primary_email(value)
        elif key_lower.startswith("emails[") and key_lower.endswith("].value"):
            data.email = _as_str(value, "emails.value")
    return data


def _operations(body: dict) -> list[dict]:
    operations = body.get("Operations")
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise ScimError("Operations must be a list of objects.", 400, "invalidSyntax")
    for operation in operations:
        if str(operation.get("op", "")).lower() not in {"add", "replace", "remove"}:
            raise ScimError("op must be add, replace or remove.", 400, "invalidSyntax")
    return operations


def patch_person_data(body: dict) -> PersonData:
    merged: dict = {}
    for operation in _operations(body):
        value, path_ = operation.get("value"), operation.get("path")
        if str(operation["op"]).lower() == "remove":
            continue  # nothing the portal keeps may be emptied by the identity provider
        if path_:
            merged[_as_str(path_, "path")] = value
        elif isinstance(value, dict):
            merged.update(value)
        else:
            raise ScimError("A PATCH without a path needs an object value.", 400, "invalidValue")
    return person_data(merged)


class UsersView(ScimView):
    def get(self, request):
        people = _filtered(request, provisioned_people(), {
            "username": "username__iexact", "externalid": "external_identities__subject",
            "emails.value": "email__iexact"})
        return _page(request, people, user_resource)

    def post(self, request):
        user = person_create(actor=request.user, data=person_data(self.body()))
        return Response(user_resource(request, _person(user.pk)), status=status.HTTP_201_CREATED)


def _person(pk) -> User:
    return get_object_or_404(provisioned_people(), pk=pk)


class UserView(ScimView):
    def get(self, request, pk):
        return Response(user_resource(request, _person(pk)))

    def put(self, request, pk):
        data = person_data(self.body())
        if data.active is None:
            data.active = True  # a replace without `active` means the default: active
        person_update(actor=request.user, user=_person(pk), data=data)
        return Response(user_resource(request, _person(pk)))

    def patch(self, request, pk):
        person_update(actor=request.user, user=_person(pk), data=patch_person_data(self.body()))
        return Response(user_resource(request, _person(pk)))

    def delete(self, request, pk):
        person_update(actor=request.user, user=_person(pk), data=PersonData(active=False))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Groups ------------------------------------------------------------------------------------

def _members(values) -> list[User]:
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise ScimError("members must be a list of objects with a value.", 400, "invalidValue")
    ids = [str(v.get("value", "")) for v in values]
    people = {str(u.pk): u for u in provisioned_people().filter(
        pk__in=[i for i in ids if i.isdigit()])}
    unknown = [i for i in ids if i not in people]
    if unknown:
        raise ScimError(f"No such user: {', '.join(unknown)}.", 400, "invalidValue")
    return list(people.values())


def _group(scim_id) -> DirectoryGroup:
    return get_object_or_404(directory_groups(), scim_id=scim_id)


class GroupsView(ScimView):
    def get(self, request):
        groups = _filtered(request, directory_groups(), {
            "displayname": "display_name", "externalid": "external_id"})
        return _page(request, groups, group_resource)

    def post(self, request):
        body = self.body()
        group = group_create(actor=request.user,
                             display_name=_as_str(body.get("displayName", ""), "displayName"),
                             external_id=_as_str(body.get("externalId", ""), "externalId"),
                             members=_members(body.get("members", [])))
        return Response(group_resource(request, _group(group.scim_id)),
                        status=status.HTTP_201_CREATED)


class GroupView(ScimView):
    def get(self, request, scim_id):
        return Response(group_resource(request, _group(scim_id)))

    def put(self, request, scim_id):
        body = self.body()
        group_update(actor=request.user, group=_group(scim_id),
                     display_name=_as_str(body.get("displayName", ""), "displayName"),
                     replace=_members(body.get("members", [])))
        return Response(group_resource(request, _group(scim_id)))

    @transaction.atomic
    def patch(self, request, scim_id):
        group = _group(scim_id)
        for operation in _operations(self.body()):
            group_update(actor=request.user, group=group, **_group_change(operation))
        return Response(group_resource(request, _group(scim_id)))

    def delete(self, request, scim_id):
        group_delete(actor=request.user, group=_group(scim_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _group_change(operation: dict) -> dict:
    """One PATCH operation as group_update's arguments."""
    op, value = str(operation["op"]).lower(), operation.get("value")
    path_ = _as_str(operation.get("path") or "", "path")
    member = MEMBER_PATH.match(path_)
    if op == "remove" and member:
        return {"remove": _members([{"value": member.group(1)}])}
    if path_.lower() == "members":
        if op == "remove" and value is None:
            return {"replace": []}
        key = {"add": "add", "remove": "remove", "replace": "replace"}[op]
        return {key: _members(value)}
    if path_.lower() == "displayname" and op != "remove":
        return {"display_name": _as_str(value, "displayName")}
    if not path_ and op != "remove" and isinstance(value, dict):
        change: dict[str, Any] = {}
        if "displayName" in value:
            change["display_name"] = _as_str(value["displayName"], "displayName")
        if "members" in value:
            change["add" if op == "add" else "replace"] = _members(value["members"])
        return change
    raise ScimError(f"Unsupported group PATCH: {op} {path_ or '(no path)'}.", 400, "invalidPath")


# --- Discovery ---------------------------------------------------------------------------------

class ServiceProviderConfigView(ScimView):
    def get(self, request):
        return Response({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0,
                                                   "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_PAGE},
            "changePassword": {"supported": False}, "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [{"type": "oauthbearertoken", "name": "Bearer token",
                                       "description": "An API token with the scim scope."}],
        })


urlpatterns = [
    path("ServiceProviderConfig", ServiceProviderConfigView.as_view(),
         name="scim-service-provider-config"),
    path("Users", UsersView.as_view(), name="scim-users"),
    path("Users/<int:pk>", UserView.as_view(), name="scim-user"),
    path("Groups", GroupsView.as_view(), name="scim-groups"),
    path("Groups/<uuid:scim_id>", GroupView.as_view(), name="scim-group"),
]
