"""What every command of `rag` shares: the settings from the root options, and the services built from them once."""


class State:
    settings = None
    services = None


def services():
    if State.services is None:
        from rag.service.services import Services

        State.services = Services(State.settings)
    return State.services
