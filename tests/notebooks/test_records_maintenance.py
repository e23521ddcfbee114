"""The maintenance and maintenance-window notebooks' records: the schedule's statuses from
real runs, and a pre/post window around a backend recreate that shows the new container
id and no regression (checked against docker inspect)."""

from __future__ import annotations

from netzops import containers
from netzops.targets import load_target
from tests.notebooks.helpers import inspect, run


def test_schedule_takes_the_logs_run_as_the_error_log_review() -> None:
    logs = run("logs")
    assert logs.exit in (0, 1)
    record = run("maintenance")
    rows = {r["item"]: r for r in record.result("maintenance")["rows"]}
    assert len(rows) == 15
    review = rows["Review error logs"]
    assert review["status"] == "done", review
    assert logs.side["run_id"][:8] in review["evidence"]
    assert record.result("log_rotation")["rows"]
    assert record.result("security_updates")["rows"]
    assert not record.side["actions"]  # prune=false: nothing planned
    text = record.html.read_text() + str(record.side)
    for secret in load_target("sandbox").resolve_secrets():
        assert secret not in text


def test_window_around_a_backend_recreate_shows_the_new_id_and_no_regression() -> None:
    target = load_target("sandbox")
    docker = containers.connect(target)
    (name,) = [c.name for c in containers.project_containers(docker, "netzwaechter", "backend")]
    before = inspect(name, "{{.Id}}")[:12]
    pre = run("maintenance-window", "phase=pre")
    assert pre.exit == 0, pre.side["findings"]
    assert not pre.findings("backup_verify")
    shown = {r["name"]: r["id"] for r in pre.result("maintenance_snapshot")["rows"]}
    assert shown[name] == before
    dry = containers.recreate(docker, target, "backend")
    done = containers.recreate(docker, target, "backend", confirm=dry.notes[0].rsplit(" ", 1)[1])
    assert done.actions[0]["verified"], done.actions[0]["outcome"]
    after = inspect(name, "{{.Id}}")[:12]
    assert after != before
    post = run("maintenance-window", "phase=post")
    assert post.exit == 0, post.side["findings"]
    changes = {r["what"]: r for r in post.result("maintenance_window")["rows"]}
    assert changes[f"{name} id"]["before"] == before and changes[f"{name} id"]["after"] == after
    assert all(r["change"] != "worse" for r in changes.values()), changes
    assert not post.findings("maintenance_window")
    assert not post.findings("http_health")
    assert post.metric("window.regressions") == 0
    docker.close()
