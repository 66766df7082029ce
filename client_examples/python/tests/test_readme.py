"""The README opens with the minimal handler that packaging/ builds and the
e2e runs: the two must not drift apart."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_readme_first_code_block_is_the_minimal_handler():
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"```[a-z]*\n(.*?)```", readme, re.S)
    assert first, "README.md has no code block"
    assert first.group(1) == (ROOT / "packaging" / "minimal" / "handler.py").read_text()
