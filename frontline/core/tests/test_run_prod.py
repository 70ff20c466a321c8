"""`make run-prod` (bin/run-prod) and `frontline serve` in the production profile: what they run."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import stat

import pytest
from django.conf import settings

from frontline.core.management.commands import serve


@pytest.fixture(scope="module")
def run_prod():
    path = settings.BASE_DIR / "bin" / "run-prod"
    loader = importlib.machinery.SourceFileLoader("run_prod", str(path))
    spec = importlib.util.spec_from_loader("run_prod", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_run_prod_sets_the_production_profile_with_local_defaults(run_prod, tmp_path):
    env = run_prod.local_env({"FRONTLINE_ENV": "development", "PATH": "/bin"}, var_dir=tmp_path)

    assert env["FRONTLINE_ENV"] == "production"
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/frontline_prod"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/1"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert env["SITE_URL"] == "http://127.0.0.1:8000"
    assert env["SECURE_SSL_REDIRECT"] == "false"
    assert env["PATH"] == "/bin"
    assert len(env["SECRET_KEY"]) >= 50


def test_the_secret_is_generated_once_and_kept_private(run_prod, tmp_path):
    first = run_prod.local_env({}, var_dir=tmp_path)["SECRET_KEY"]
    second = run_prod.local_env({}, var_dir=tmp_path)["SECRET_KEY"]

    assert first == second
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_the_environment_wins_over_the_local_defaults(run_prod, tmp_path):
    env = run_prod.local_env(
        {"DATABASE_URL": "postgres://db/x", "SECRET_KEY": "k" * 60, "PORT": "8101"},
        var_dir=tmp_path,
    )

    assert env["DATABASE_URL"] == "postgres://db/x"
    assert env["SECRET_KEY"] == "k" * 60
    assert env["SITE_URL"] == "http://127.0.0.1:8101"
    assert not (tmp_path / "secret_key").exists()
    argv = run_prod.serve_argv(env)
    assert argv[1:] == [
        "-m",
        "frontline.cli",
        "serve",
        "--prepare",
        "--with-worker",
        "--host",
        "127.0.0.1",
        "--port",
        "8101",
    ]


def test_production_gunicorn_uses_the_frontline_config(settings):
    settings.PRODUCTION = True

    argv = serve.web_command(host="127.0.0.1", port=8100, workers=3)

    assert argv[argv.index("--config") + 1] == "python:frontline.core.gunicorn_conf"
    assert argv[argv.index("--workers") + 1] == "3"
    assert "--access-logfile" not in argv  # the JSON request log replaces it


@pytest.mark.parametrize(("cpus", "workers"), [(1, 3), (2, 5), (4, 9), (64, 12)])
def test_default_web_workers_is_two_per_core_plus_one_capped(cpus, workers):
    assert serve.default_web_workers(cpus) == workers


def test_n_celery_workers_and_one_beat(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/7"

    commands = serve.celery_commands(loglevel="info", workers=3)

    assert sorted(commands) == ["beat", "worker-1", "worker-2", "worker-3"]
    names = [argv[argv.index("-n") + 1] for name, argv in commands.items() if name != "beat"]
    assert names == ["worker1@%h", "worker2@%h", "worker3@%h"]
    assert "--pool=threads" in commands["worker-1"]


def test_the_metrics_folder_loses_the_files_of_processes_that_are_gone(tmp_path, settings):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    gone = folder / "counter_4999999.db"  # above Linux's largest pid
    gone.write_bytes(b"old")
    live = folder / f"histogram_{os.getpid()}.db"
    live.write_bytes(b"live")
    environ = {"PROMETHEUS_MULTIPROC_DIR": str(folder)}

    assert serve.prepare_metrics_dir(environ) == folder

    assert sorted(folder.iterdir()) == [live]
    settings.VAR_DIR = tmp_path
    environ = {}
    assert serve.prepare_metrics_dir(environ) == folder
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(folder)
