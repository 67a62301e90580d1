"""User mistakes (missing file, bad param, wrong column) that the CLI reports as one line."""


class InputError(ValueError):
    """Raised for a problem the user can fix; the message names the offending value."""
