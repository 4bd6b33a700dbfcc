"""Render the plugin template shipped in this package into a new ``autotrader-<name>`` folder.

The template is plain files under ``template/`` (package data).  Placeholders are
``@@{key}`` -- a delimiter that occurs in no Python, TOML, YAML or Markdown the template needs,
so GitHub's ``${{ }}`` expressions and Python decorators pass through untouched -- and the
substitution is strict: an unknown placeholder is an error, never a silent blank.  Path parts are
renamed by two rules: ``__package__`` becomes the import name and a leading ``dot-`` becomes
``.`` (so that ``.github`` survives packaging tools that skip dot-folders).
"""

from __future__ import annotations

import keyword
import re
import shutil
import string
from collections.abc import Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from autotrader.errors import AutotraderError

__all__ = ["NAME_PATTERN", "ScaffoldError", "create_plugin", "validate_name"]

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,23}")
"""Broker names: lowercase, a letter first, then letters, digits or underscores (at most 24).

The name is the entry-point name, the ``BrokerSpec.name``, the suffix of the distribution
(``autotrader-<name>``) and of the import package (``autotrader_<name>``), so it must be valid in
all four without any translation.
"""

_TEMPLATE_SUFFIX = ".tmpl"
_PACKAGE_PART = "__package__"
_DOT_PREFIX = "dot-"


class ScaffoldError(AutotraderError, ValueError):
    """The plugin cannot be generated: a bad name, or the destination already exists."""


class _Template(string.Template):
    delimiter = "@@"


def validate_name(name: str) -> str:
    """Return ``name`` if it can name a broker plugin, else raise :class:`ScaffoldError` saying why."""
    if not NAME_PATTERN.fullmatch(name):
        raise ScaffoldError(
            f"invalid plugin name {name!r}: use 1-24 lowercase letters, digits or underscores, "
            "starting with a letter (for example 'mybroker')"
        )
    if name.endswith("_") or "__" in name:
        raise ScaffoldError(f"invalid plugin name {name!r}: no trailing or doubled underscores")
    if keyword.iskeyword(name):
        raise ScaffoldError(f"invalid plugin name {name!r}: it is a Python keyword")
    return name


def _substitutions(name: str) -> dict[str, str]:
    from autotrader import __version__ as core_version

    major, minor, *_ = core_version.split(".")
    return {
        "name": name,
        "package": f"autotrader_{name}",
        "distribution": f"autotrader-{name}",
        "title": "".join(part.capitalize() for part in name.split("_")),
        "core_requirement": f"autotrader>={major}.{minor}",
    }


def _template_files(root: Traversable, parts: tuple[str, ...] = ()) -> Iterator[tuple[PurePosixPath, str]]:
    """Every template file below ``root`` as (relative path, text), in a stable order."""
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _template_files(entry, (*parts, entry.name))
        elif entry.name.endswith(_TEMPLATE_SUFFIX):
            yield PurePosixPath(*parts, entry.name), entry.read_text(encoding="utf-8")


def _target_part(part: str, package: str) -> str:
    if part == _PACKAGE_PART:
        return package
    if part.startswith(_DOT_PREFIX):
        return "." + part.removeprefix(_DOT_PREFIX)
    return part


def _target_path(relative: PurePosixPath, package: str) -> PurePosixPath:
    parts = [_target_part(part, package) for part in relative.parts]
    return PurePosixPath(*parts[:-1], parts[-1].removesuffix(_TEMPLATE_SUFFIX))


def render(text: str, values: Mapping[str, str], *, source: str = "template") -> str:
    """Substitute ``@@{key}`` placeholders strictly (``@@@@`` is a literal ``@@``)."""
    try:
        return _Template(text).substitute(values)
    except (KeyError, ValueError) as exc:
        raise ScaffoldError(f"{source}: bad placeholder ({exc})") from None


def create_plugin(name: str, destination: Path) -> Path:
    """Write a working broker plugin ``autotrader-<name>/`` into ``destination``; return its path.

    The plugin has a package with its entry point, adapter, an in-memory venue to replace, the
    VenueControl and harness the conformance suite drives, its tests, a README and a CI workflow.
    Nothing is written if ``name`` is invalid or ``destination/autotrader-<name>`` exists; a
    failure halfway removes the half-written folder.
    """
    validate_name(name)
    values = _substitutions(name)
    root = Path(destination) / values["distribution"]
    if root.exists():
        raise ScaffoldError(f"{root} already exists; choose another name or destination")
    template = resources.files("autotrader.scaffold").joinpath("template")
    rendered = [
        (_target_path(relative, values["package"]), render(text, values, source=str(relative)))
        for relative, text in _template_files(template)
    ]
    root.mkdir(parents=True)
    try:
        for relative, text in rendered:
            target = root.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root
