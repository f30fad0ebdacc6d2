"""Every ORM model, imported here so Alembic sees every table."""

from exam_service.models.base import Base
from exam_service.models.identity import LoginThrottle, RevokedToken, Role, User

__all__ = ["Base", "LoginThrottle", "RevokedToken", "Role", "User"]
