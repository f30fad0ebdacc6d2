"""Every ORM model, imported here so Alembic sees every table."""

from exam_service.models.bank import BankItem, BlueprintVersion, Form, FormItem, ItemVersion, VersionStatus
from exam_service.models.base import Base
from exam_service.models.delivery import Attempt, AttemptState, AttemptTransition, Response, SittingEvent
from exam_service.models.grading import GradingJob, GradingState
from exam_service.models.identity import AuthSession, LoginThrottle, RefreshToken, Role, User
from exam_service.models.proctoring import ChannelTicket, Incident, IncidentStatus, SittingIntegrity, WebcamSnapshot
from exam_service.models.scheduling import Credential, ExamWindow, Waiver, WindowProctor
from exam_service.models.scoring import (
    KeyCorrection,
    RescoreRequest,
    Result,
    ResultDecision,
    ResultState,
    ScoreOverride,
)

__all__ = [
    "Attempt",
    "AttemptState",
    "AttemptTransition",
    "AuthSession",
    "BankItem",
    "Base",
    "BlueprintVersion",
    "ChannelTicket",
    "Credential",
    "ExamWindow",
    "Form",
    "FormItem",
    "GradingJob",
    "GradingState",
    "Incident",
    "IncidentStatus",
    "ItemVersion",
    "KeyCorrection",
    "LoginThrottle",
    "RefreshToken",
    "RescoreRequest",
    "Response",
    "Result",
    "ResultDecision",
    "ResultState",
    "Role",
    "ScoreOverride",
    "SittingEvent",
    "SittingIntegrity",
    "User",
    "VersionStatus",
    "Waiver",
    "WebcamSnapshot",
    "WindowProctor",
]
