"""The one exception type that carries a message meant for people, not programmers."""


class TinyGPTError(ValueError):
    """Bad input or a run that cannot go on; str() is one plain sentence saying what to do."""
