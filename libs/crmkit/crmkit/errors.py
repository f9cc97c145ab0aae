"""The one typed error a consumer step raises for a message that can never succeed."""


class PoisonMessage(Exception):
    """A message that no retry can fix (undecodable, unknown type, missing field).

    The consumer runtime sends it to the dead-letter topic at once, with ``reason`` as
    the error header, and moves on.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
