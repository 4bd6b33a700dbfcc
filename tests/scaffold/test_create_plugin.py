"""``create_plugin``: name validation, refusal to overwrite, and what a generated plugin contains."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from autotrader.scaffold import ScaffoldError, create_plugin, validate_name

EXPECTED_FILES = {
    ".github/workflows/conformance.yml",
    "README.md",
    "pyproject.toml",
    "src/autotrader_acme/__init__.py",
    "src/autotrader_acme/adapter.py",
    "src/autotrader_acme/capabilities.py",
    "src/autotrader_acme/control.py",
    "src/autotrader_acme/harness.py",
    "src/autotrader_acme/mapping.py",
    "src/autotrader_acme/plugin.py",
    "src/autotrader_acme/py.typed",
    "src/autotrader_acme/venue.py",
    "tests/conftest.py",
    "tests/test_conformance.py",
    "tests/test_mapping.py",
}


@pytest.mark.parametrize("name", ["acme", "my_broker", "b2c", "x", "a" * 24])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Acme",
        "my-broker",
        "2fast",
        "_acme",
        "acme_",
        "my__broker",
        "acme broker",
        "acmé",
        "../acme",
        "acme/evil",
        "a" * 25,
        "class",
    ],
)
def test_invalid_names_are_refused_and_nothing_is_written(name: str, tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="invalid plugin name"):
        create_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "autotrader-acme"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="already exists"):
        create_plugin("acme", tmp_path)
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    assert (existing / "keep.txt").read_text() == "mine"


def test_generated_layout_and_metadata(tmp_path: Path) -> None:
    root = create_plugin("acme", tmp_path / "new" / "dir")
    assert root == tmp_path / "new" / "dir" / "autotrader-acme"
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert files == EXPECTED_FILES

    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["name"] == "autotrader-acme"
    assert project["project"]["entry-points"]["autotrader"] == {"acme": "autotrader_acme.plugin"}
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert any(dep.startswith("autotrader>=") for dep in project["project"]["dependencies"])
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/autotrader_acme"]

    workflow = (root / ".github/workflows/conformance.yml").read_text()
    assert "pytest --autotrader-broker acme" in workflow
    assert "${{ matrix.python-version }}" in workflow  # GitHub's own expressions survive rendering


def test_every_placeholder_is_filled_and_the_python_parses(tmp_path: Path) -> None:
    root = create_plugin("acme_fx", tmp_path)
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text()
        assert "@@" not in text, f"unrendered placeholder in {path}"
        assert "__package__" not in path.as_posix()
        if path.suffix == ".py":
            ast.parse(text, filename=str(path))
    plugin = (root / "src/autotrader_acme_fx/plugin.py").read_text()
    assert 'name="acme_fx"' in plugin and "AcmeFxAdapter" in plugin
