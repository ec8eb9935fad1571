"""Errors a user can act on."""


class StudyError(ValueError):
    """Bad input: the message names the file, the field, the offending values and the fix."""


def preview(values, limit: int = 5) -> str:
    """The first `limit` values, and how many there are when that is more: "'a', 'b', ... (7 in all)"."""
    values = [v.item() if hasattr(v, "item") else v for v in values]
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")
