"""Every ORM model, imported here so Alembic sees every table."""

from exam_service.models.bank import BankItem, BlueprintVersion, Form, FormItem, ItemVersion, VersionStatus
from exam_service.models.base import Base
from exam_service.models.delivery import (
    Attempt,
    AttemptEvent,
    AttemptState,
    AttemptTransition,
    Credential,
    ExamWindow,
    Response,
    Waiver,
)
from exam_service.models.identity import LoginThrottle, RevokedToken, Role, User

__all__ = [
    "Attempt",
    "AttemptEvent",
    "AttemptState",
    "AttemptTransition",
    "BankItem",
    "Base",
    "BlueprintVersion",
    "Credential",
    "ExamWindow",
    "Form",
    "FormItem",
    "ItemVersion",
    "LoginThrottle",
    "Response",
    "RevokedToken",
    "Role",
    "User",
    "VersionStatus",
    "Waiver",
]
