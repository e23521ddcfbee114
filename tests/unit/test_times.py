"""Issue 11, kinds D and E: one time grammar (RFC 3339 with any offset, Unix seconds, Go
durations) for every since/until on the command line, in notebooks and in parameter files;
times compared as instants; parameter files keep the written text of `str` parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from netzops.cli import main
from netzops.errors import BadInput
from netzops.logs.read import parse_when
from netzops.runner import ledger, notebooks
from netzops.runner.parameters import merge, read_file
from netzops.times import check_time, parse_duration, parse_time

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h30m", NOW - timedelta(hours=1, minutes=30)),
        ("1m30s", NOW - timedelta(seconds=90)),
        ("1.5h", NOW - timedelta(minutes=90)),
        ("300ms", NOW - timedelta(milliseconds=300)),
        ("2h45m10.5s", NOW - timedelta(hours=2, minutes=45, seconds=10.5)),
        ("2d", NOW - timedelta(days=2)),
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1700000000.5", datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),  # docker: the epoch, not "now"
        ("2026-11-27T12:00:00+02:00", datetime(2026, 11, 27, 10, tzinfo=UTC)),
        ("2026-11-27T10:00Z", datetime(2026, 11, 27, 10, tzinfo=UTC)),
        ("2026-11-27t10:00:00.25z", datetime(2026, 11, 27, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-27 10:00", datetime(2026, 11, 27, 10, tzinfo=UTC)),  # no offset: UTC
        ("2026-11-27T05:30:00-04:30", datetime(2026, 11, 27, 10, tzinfo=UTC)),
        ("2026-11-27", datetime(2026, 11, 27, tzinfo=UTC)),
    ],
)
def test_the_time_grammar(text: str, expected: datetime) -> None:
    got = parse_time(text, NOW)
    assert got == expected
    assert got is not None and got.utcoffset() == timedelta(0)
    assert parse_when(text, NOW) == expected  # the logs package reads the same grammar


@pytest.mark.parametrize(
    "text",
    ["abc", "-1h", "1h-", "h", "1x", "1e5", "nan", "inf", "1 h", "99999999999999",
     "9999999999h", "2026-13-01", "2026-11-27T25:00Z", "20261127T10"],
)  # fmt: skip
def test_bad_times_are_refused_naming_the_value(text: str) -> None:
    with pytest.raises(BadInput, match=r"time|duration|Unix"):
        parse_time(text, NOW)


def test_empty_text_is_not_set_as_check_time_lets_it_through() -> None:
    """A parameters cell's "" passes the check before a run, so the library must take it:
    not set (None), never a BadInput from inside the kernel (exit 3 instead of 2)."""
    assert check_time("since", "") == "" and check_time("until", "  ") == "  "
    assert parse_time("", NOW) is None and parse_time("  ", NOW) is None
    assert parse_when("", NOW) is None


def test_datetimes_and_numbers_are_aware_utc() -> None:
    assert parse_time(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    plus2 = datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert parse_time(plus2) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time(plus2).tzinfo == UTC  # type: ignore[union-attr]
    assert parse_time(1700000000.5) == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)
    with pytest.raises(BadInput):
        parse_time(float("nan"))
    with pytest.raises(BadInput):
        parse_time(True)


@given(st.integers(0, 10**6), st.integers(0, 59), st.integers(0, 59))
def test_go_durations_add_up(hours: int, minutes: int, seconds: int) -> None:
    text = f"{hours}h{minutes}m{seconds}s"
    assert parse_duration(text) == timedelta(hours=hours, minutes=minutes, seconds=seconds)


@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59),
)
def test_rfc3339_round_trips_with_any_offset(moment: datetime, offset_min: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_min)))
    assert parse_time(aware.isoformat()) == aware


@given(st.text(max_size=30))
def test_any_text_is_a_time_or_bad_input(text: str) -> None:
    try:
        got = parse_time(text, NOW)
    except BadInput as exc:
        assert "\n" not in str(exc)
    else:
        assert (got is None) == (text.strip() == "")  # empty is "not set"
        assert got is None or got.tzinfo is not None


# --- parameters: validated before any kernel, YAML's implicit types --------------------------


@pytest.mark.parametrize("since", ["1h30m", "1m30s", "1700000000", "2026-11-27T10:00:00+02:00"])
def test_logs_since_accepts_docker_forms(since: str) -> None:
    params = merge(notebooks.load("logs").parameters, {"since": since})
    assert params["since"] == since  # the kernel reads the same text with the same grammar


def test_a_bad_since_is_refused_before_a_kernel() -> None:
    with pytest.raises(BadInput, match="parameter since: not a time: 'yesterday'"):
        merge(notebooks.load("logs").parameters, {"since": "yesterday"})


def test_parameter_files_keep_the_written_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("since: 2026-11-27T10:00:00Z\npattern: off\ntail: 0x10\nservice: 0777\n")
    params = merge(notebooks.load("logs").parameters, read_file(path))
    assert params["since"] == "2026-11-27T10:00:00Z"
    assert type(params["since"]) is str
    assert params["pattern"] == "off"
    assert params["service"] == "0777"  # text, not YAML's octal 511
    assert params["tail"] == 16  # an int parameter gets YAML's value


def test_yaml_booleans_still_fill_bool_parameters(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("cancel_long_queries: off\n")
    params = merge(notebooks.load("database").parameters, read_file(path))
    assert params["cancel_long_queries"] is False


# --- netzops runs --since/--until: instants, not strings --------------------------------------


@pytest.fixture()
def outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path))
    for run_id, started in [
        ("r0930", "2026-11-27T09:30:00+00:00"),
        ("r1000", "2026-11-27T10:00:30.123456+00:00"),
        ("r1100", "2026-11-27T11:00:00+00:00"),
    ]:
        entry = {"run_id": run_id, "started": started, "target": "sandbox"}
        ledger.append(tmp_path / "ledger.jsonl", {**entry, "notebook": "logs"} | _rest())
    return tmp_path


def _rest() -> dict[str, object]:
    return {"status": "completed", "worst": None, "files": {}}


def _runs(*args: str) -> tuple[int, set[str]]:
    done = CliRunner().invoke(main, ["runs", *args])
    return done.exit_code, {w for w in done.output.split() if w.startswith("r")}


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("2026-11-27T12:00:00+02:00", {"r1000", "r1100"}),  # 10:00 UTC
        ("2026-11-27T10:00Z", {"r1000", "r1100"}),
        ("2026-11-27 10:00", {"r1000", "r1100"}),
        ("2026-11-27T10:00:31Z", {"r1100"}),
        ("2026-11-27", {"r0930", "r1000", "r1100"}),
        ("1795773600", {"r1000", "r1100"}),  # 10:00 UTC in Unix seconds
    ],
)
def test_runs_since_compares_instants(outputs: Path, since: str, expected: set[str]) -> None:
    assert _runs("--since", since) == (0, expected)


def test_runs_until_and_durations(outputs: Path) -> None:
    assert _runs("--until", "2026-11-27T10:00:30.123456Z") == (0, {"r0930"})
    assert _runs("--since", "1h") == (0, set())  # long ago: none, not everything
    code, found = _runs("--since", "100000h")
    assert (code, found) == (0, {"r0930", "r1000", "r1100"})


@pytest.mark.parametrize("since", ["1 hour", "yesterday", "-1h", "2026-11-27T10:00+25:00"])
def test_runs_refuses_a_bad_time_with_exit_2(outputs: Path, since: str) -> None:
    done = CliRunner().invoke(main, ["runs", "--since", since])
    assert done.exit_code == 2
    assert "not a time" in done.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "logs", "-p", "since=yesterday"], "parameter since: not a time"),
        (["run", "logs", "-p", "since=-1h"], "parameter since: not a time"),
        (["run", "logs", "--cell-timeout", "0"], "--cell-timeout"),
        (["runs", "--until", "soon"], "not a time"),
        (["events", "show", "--since", "soon"], "not a time"),  # any command's BadInput
    ],
)
def test_cli_refuses_bad_options_with_exit_2_before_a_kernel(
    outputs: Path, args: list[str], message: str
) -> None:
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert not list(outputs.glob("sandbox/*/*.ipynb"))  # nothing ran


def test_target_files_keep_the_written_text_of_notebook_parameters(tmp_path: Path) -> None:
    from netzops.paths import targets_dir
    from netzops.targets import load_target

    text = (targets_dir() / "sandbox.yaml").read_text()
    assert "\nparameters:" not in text
    (tmp_path / "sandbox.yaml").write_text(
        text + "\nparameters:\n  logs:\n    since: 2026-11-27T10:00:00Z\n    pattern: off\n"
    )
    target = load_target("sandbox", tmp_path)
    params = merge(notebooks.load("logs").parameters, target.parameters["logs"])
    assert (params["since"], params["pattern"]) == ("2026-11-27T10:00:00Z", "off")
    assert target == load_target("sandbox").model_copy(update={"parameters": target.parameters})
