"""User mistakes (missing file, bad param, wrong column) that the CLI reports as one line."""


class InputError(ValueError):
    """Raised for a problem the user can fix; the message names the offending value."""


class NotEnoughData(InputError):
    """A stage got too little data to do its job (say, at an extreme `filter.threshold`): it writes
    empty outputs and metrics that say why, so a sweep still gives a row for every point."""
