"""Errors a user can act on."""


class StudyError(ValueError):
    """Bad input: the message names the file, the field, the offending values and the fix."""


def preview(values, limit: int = 5) -> str:
    """First `limit` values and a count, for error messages: "'a', 'b' (2 in all)"."""
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    more = f", ... ({len(values)} in all)" if len(values) > limit else f" ({len(values)} in all)"
    return shown + more
