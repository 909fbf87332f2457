"""What every command of `rag` shares: the settings from the root options, and the services built from them once."""

from typing import TYPE_CHECKING

from rag.core.errors import RagError

if TYPE_CHECKING:  # the services import every model backend: loaded only when a command needs them
    from rag.core.settings import Settings
    from rag.service.services import Services


class State:
    settings: "Settings | None" = None
    services: "Services | None" = None


def current_settings() -> "Settings":
    """The settings of the root options (`main_options` reads them before any command runs)."""
    if State.settings is None:
        raise RagError("no settings: the root `rag` command reads them before any command runs")
    return State.settings


def services() -> "Services":
    if State.services is None:
        from rag.service.services import Services

        State.services = Services(State.settings)
    return State.services
