"""A notebook's `preflight` cells run in the runner before any kernel starts: their BadInput
refuses the run in `prepare`; any other error there is left for the run to meet."""

from __future__ import annotations

from pathlib import Path

import pytest

from netzops.errors import BadInput
from netzops.runner import notebooks
from netzops.runner.execution import prepare
from netzops.targets import load_target

TEXT = """# %% [markdown]
# # Checked

# %% tags=["parameters"]
target: str = "sandbox"  # target file
count: int = 1  # how many
note: str = ""  # free text

# %% tags=["preflight"]
from netzops.errors import BadInput

if count < 1:
    raise BadInput(f"count must be at least 1, not {count}")

# %% tags=["preflight"]
seen = 1 / len(note)  # ZeroDivisionError for an empty note: not bad input

# %%
print(count)
"""


@pytest.fixture
def notebook(tmp_path: Path) -> notebooks.Notebook:
    (tmp_path / "checked.py").write_text(TEXT)
    return notebooks.load("checked", tmp_path)


def test_preflight_cells_are_found_in_order(notebook: notebooks.Notebook) -> None:
    found = notebooks.preflight_cells(notebook.path.read_text())
    assert len(found) == 2 and "count < 1" in found[0] and "1 / len(note)" in found[1]


def test_bad_input_of_a_preflight_cell_refuses_the_run(notebook: notebooks.Notebook) -> None:
    target = load_target("sandbox")
    with pytest.raises(BadInput, match="count must be at least 1, not 0"):
        prepare(notebook, target, [], {"count": "0"})
    params = prepare(notebook, target, [], {"count": "2", "note": "x"})
    assert params == {"target": "sandbox", "count": 2, "note": "x"}


def test_another_error_in_a_preflight_cell_is_left_to_the_run(
    notebook: notebooks.Notebook,
) -> None:
    params = prepare(notebook, load_target("sandbox"), [], {"count": "3"})
    assert params["note"] == "" and params["count"] == 3
