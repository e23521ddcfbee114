from __future__ import annotations

import json
from pathlib import Path

from netzops.runner import ledger


def _history(tmp_path: Path, runs: int = 3) -> Path:
    path = tmp_path / "ledger.jsonl"
    for n in range(runs):
        record = tmp_path / f"run{n}.json"
        record.write_text(json.dumps({"n": n}))
        ledger.append(path, {"run_id": f"r{n}", "files": {record.name: ledger.file_hash(record)}})
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_clean_history_verifies(tmp_path: Path) -> None:
    path = _history(tmp_path)
    assert ledger.verify(path, tmp_path) == []
    entries = list(ledger.entries(path))
    assert entries[0]["prev"] == ledger.GENESIS
    assert entries[1]["prev"] == entries[0]["hash"]


def test_edited_entry_is_found(tmp_path: Path) -> None:
    path = _history(tmp_path)
    lines = _lines(path)
    entry = json.loads(lines[1])
    entry["run_id"] = "forged"
    lines[1] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")
    problems = ledger.verify(path, tmp_path)
    assert any("edited" in p for p in problems)


def test_removed_entry_is_found(tmp_path: Path) -> None:
    path = _history(tmp_path)
    lines = _lines(path)
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert any("chain broken" in p for p in ledger.verify(path, tmp_path))


def test_reordered_entries_are_found(tmp_path: Path) -> None:
    path = _history(tmp_path)
    lines = _lines(path)
    path.write_text("\n".join([lines[1], lines[0], lines[2]]) + "\n")
    assert any("chain broken" in p for p in ledger.verify(path, tmp_path))


def test_changed_record_file_is_found(tmp_path: Path) -> None:
    path = _history(tmp_path)
    (tmp_path / "run1.json").write_text('{"n": 99}')
    assert any("run1.json changed" in p for p in ledger.verify(path, tmp_path))


def test_missing_record_file_is_found(tmp_path: Path) -> None:
    path = _history(tmp_path)
    (tmp_path / "run2.json").unlink()
    assert any("run2.json is missing" in p for p in ledger.verify(path, tmp_path))


def test_removed_last_entry_is_found(tmp_path: Path) -> None:
    path = _history(tmp_path)
    lines = _lines(path)
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert any("ledger.head" in p for p in ledger.verify(path, tmp_path))
