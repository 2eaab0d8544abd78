"""Settings come from the environment: each case loads them in a fresh process with a controlled
environment (only PATH, HOME and locale are inherited), as a server or a container would."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
SECRET = "k" * 60
APP_SERVICES = ("web", "worker", "beat")


def _env(**values: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env["PYTHONPATH"] = str(ROOT)
    # Not the project folder's .env (`make run` writes one): only what each case sets.
    env["ENV_FILE"] = ""
    env.update(values)
    return env


def _run(args: list[str], cwd: Path = ROOT, **values: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env=_env(**values), capture_output=True, text=True, timeout=120
    )


def _settings(code: str, cwd: Path = ROOT, **values: str):
    """Evaluate ``code`` (an expression using ``settings`` or ``app``) in a fresh process."""
    program = (
        "import json, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "from django.conf import settings\n"
        "from config.celery import app\n"
        f"print(json.dumps({code}, default=str))\n"
    )
    result = _run([sys.executable, "-c", program], cwd=cwd, **values)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- SECRET_KEY and DEBUG ------------------------------------------------------------------


def test_check_fails_without_secret_key_when_debug_is_off():
    result = _run([sys.executable, "manage.py", "check"], DEBUG="0")

    assert result.returncode == 1
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_production_settings_are_the_same_under_pytest():
    """Tests get their own module (config/settings_test.py): importing pytest changes nothing."""
    program = "import pytest, django; django.setup()"

    result = _run([sys.executable, "-c", program], DJANGO_SETTINGS_MODULE="config.settings")

    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_the_test_settings_need_no_secret_key_and_speak_plain_http():
    values = _settings(
        "[settings.DEBUG, settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE,"
        " settings.PASSWORD_HASHERS, settings.IN_PROCESS_BEAT,"
        " settings.CACHES['default']['KEY_PREFIX']]",
        DJANGO_SETTINGS_MODULE="config.settings_test",
        REDIS_URL="redis://127.0.0.1:1/0",
        PYTEST_XDIST_WORKER="gw1",
    )

    assert values == [
        False,
        False,
        False,
        ["django.contrib.auth.hashers.MD5PasswordHasher"],
        False,
        "waymarkgw1",
    ]


def test_check_passes_without_secret_key_in_debug():
    result = _run([sys.executable, "manage.py", "check"], DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_the_env_file_make_run_writes_gives_manage_py_the_development_settings(tmp_path):
    subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), ".env"], cwd=tmp_path, check=True, timeout=30
    )
    env_file = str(tmp_path / ".env")

    command = _run([sys.executable, "manage.py", "check"], ENV_FILE=env_file)
    production = _run([sys.executable, "manage.py", "check"], ENV_FILE=env_file, DEBUG="0")
    without = _run([sys.executable, "manage.py", "check"])

    assert command.returncode == 0, command.stderr
    assert production.returncode == without.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off." in production.stderr
    assert "For development, set DEBUG=1 (`make run` writes it to .env)." in without.stderr


def test_the_web_process_runs_the_beat_schedule_only_without_a_broker():
    alone = _settings("settings.IN_PROCESS_BEAT", DEBUG="1")
    with_redis = _settings("settings.IN_PROCESS_BEAT", DEBUG="1", REDIS_URL="redis://127.0.0.1:1/0")
    opted_out = _settings("settings.IN_PROCESS_BEAT", DEBUG="1", IN_PROCESS_BEAT="0")

    assert (alone, with_redis, opted_out) == (True, False, False)


def test_check_passes_in_production_with_a_secret_key():
    result = _run([sys.executable, "manage.py", "check"], DEBUG="0", SECRET_KEY=SECRET)

    assert result.returncode == 0, result.stderr


def test_deploy_check_is_clean():
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY="Jq3!vR8$zL1@wN6#tY4%hB9^cK2&mX7*pD5(sF0)gA3-eU8+oI1=",  # a real-looking key
        ALLOWED_HOSTS="roadmap.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_is_secure_by_default():
    values = _settings(
        "[settings.SECRET_KEY, settings.ALLOWED_HOSTS, settings.SECURE_SSL_REDIRECT,"
        " settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,"
        " settings.SECURE_HSTS_SECONDS, settings.STORAGES['staticfiles']['BACKEND']]",
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="roadmap.example.com,www.example.com",
    )

    assert values == [
        SECRET,
        ["roadmap.example.com", "www.example.com"],
        True,
        True,
        True,
        31536000,
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ]


def test_tls_proxy_header_is_trusted_only_when_asked():
    code = "getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)"

    assert _settings(code, DEBUG="1") is None
    assert _settings(code, DEBUG="1", BEHIND_TLS_PROXY="1") == ["HTTP_X_FORWARDED_PROTO", "https"]


# --- Celery and Redis ----------------------------------------------------------------------

CELERY = (
    "[app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend,"
    " settings.CACHES['default']['BACKEND'], settings.CACHES['default'].get('LOCATION')]"
)


def test_without_redis_tasks_run_in_process():
    assert _settings(CELERY, DEBUG="1") == [
        True,
        "memory://",
        None,
        "django.core.cache.backends.locmem.LocMemCache",
        None,
    ]


def test_with_redis_tasks_go_to_the_broker_and_the_cache_uses_another_database():
    assert _settings(CELERY, DEBUG="1", REDIS_URL="redis://cache.internal:6380/0") == [
        False,
        "redis://cache.internal:6380/0",
        "redis://cache.internal:6380/0",
        "config.cache.ResilientRedisCache",
        "redis://cache.internal:6380/1",
    ]


def test_celery_broker_url_puts_tasks_on_rabbitmq_while_redis_keeps_the_cache():
    code = (
        "[app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options,"
        " app.conf.worker_cancel_long_running_tasks_on_connection_loss,"
        " settings.CACHES['default'].get('LOCATION')]"
    )

    assert _settings(
        code,
        DEBUG="1",
        REDIS_URL="redis://cache.internal:6380/0",
        CELERY_BROKER_URL="amqp://waymark:pw@rabbitmq:5672//",
    ) == [
        "amqp://waymark:pw@rabbitmq:5672//",
        False,
        {"confirm_publish": True},
        True,
        "redis://cache.internal:6380/1",
    ]
    # Without Redis, tasks still go to RabbitMQ (the cache is per process)
    assert _settings(code, DEBUG="1", CELERY_BROKER_URL="amqp://rabbitmq//")[:2] == [
        "amqp://rabbitmq//",
        False,
    ]


# --- DATABASE_URL --------------------------------------------------------------------------

DATABASE = (
    "{k: settings.DATABASES['default'].get(k) for k in ('ENGINE', 'NAME', 'USER', 'PASSWORD',"
    " 'HOST', 'PORT', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')}"
)


def test_default_database_is_sqlite_in_the_project_folder_whatever_the_working_directory(
    tmp_path,
):
    database = _settings(DATABASE, cwd=tmp_path, DEBUG="1")

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(ROOT / "db.sqlite3")


def test_postgres_database_url_is_parsed_with_persistent_checked_connections():
    database = _settings(
        DATABASE, DEBUG="1", DATABASE_URL="postgres://waymark:pa55@db.internal:6543/roadmaps"
    )

    assert database == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "roadmaps",
        "USER": "waymark",
        "PASSWORD": "pa55",
        "HOST": "db.internal",
        "PORT": 6543,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


# --- The container image and docker-compose ------------------------------------------------

needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed"
)


def _compose(*args: str, **values: str) -> subprocess.CompletedProcess:
    return _run(["docker-compose", "--file", str(ROOT / "docker-compose.yml"), *args], **values)


@needs_compose
def test_compose_file_is_valid_with_a_secret_key():
    result = _compose("config", "-q", SECRET_KEY=SECRET)

    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_refuses_to_run_without_a_secret_key():
    result = _compose("config", "-q")

    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


@needs_compose
def test_compose_runs_web_worker_beat_on_healthy_postgres_and_redis():
    result = _compose("config", SECRET_KEY=SECRET, POSTGRES_PASSWORD="pg-pass")
    assert result.returncode == 0, result.stderr

    services = yaml.safe_load(result.stdout)["services"]

    assert {name for name, service in services.items() if "profiles" not in service} == {
        "web",
        "worker",
        "beat",
        "db",
        "redis",
    }
    assert services["web"]["command"] == [
        "sh",
        "-c",
        "python manage.py migrate --noinput && exec gunicorn config.wsgi --bind 0.0.0.0:8000",
    ]
    assert services["worker"]["command"] == "celery -A config worker -l info"
    assert services["beat"]["command"].startswith("celery -A config beat -l info")
    for name in APP_SERVICES:
        service = services[name]
        assert service["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
        assert service["environment"]["SECRET_KEY"] == SECRET
        assert service["environment"]["DEBUG"] == "0"
        assert service["environment"]["DATABASE_URL"] == (
            "postgres://waymark:pg-pass@db:5432/waymark"
        )
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["db"]["image"] == "postgres:16"
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "pg-pass"
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert services["db"]["volumes"] == ["postgres-data:/var/lib/postgresql/data:rw"]
    assert services["redis"]["image"] == "redis:7"
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "healthcheck" in services["web"]


@needs_compose
def test_compose_environment_defaults_and_overrides():
    defaults = yaml.safe_load(_compose("config", SECRET_KEY=SECRET).stdout)["services"]
    overridden = yaml.safe_load(
        _compose(
            "config",
            SECRET_KEY=SECRET,
            ALLOWED_HOSTS="roadmap.example.com",
            SITE_URL="https://roadmap.example.com",
            SECURE_SSL_REDIRECT="0",
            EMAIL_URL="smtp+tls://u:p@smtp.example.com:587",
        ).stdout
    )["services"]

    web, changed = defaults["web"]["environment"], overridden["web"]["environment"]
    assert (web["ALLOWED_HOSTS"], web["SITE_URL"], web["BEHIND_TLS_PROXY"]) == (
        "localhost,127.0.0.1",
        "http://localhost:8000",
        "1",
    )
    assert (web["SECURE_SSL_REDIRECT"], web["EMAIL_URL"]) == ("1", "consolemail://")
    assert changed["ALLOWED_HOSTS"] == "roadmap.example.com"
    assert changed["SITE_URL"] == "https://roadmap.example.com"
    assert changed["SECURE_SSL_REDIRECT"] == "0"
    assert changed["EMAIL_URL"] == "smtp+tls://u:p@smtp.example.com:587"


@needs_compose
def test_compose_rabbitmq_profile_is_the_broker_when_asked(tmp_path):
    broker = "amqp://waymark:pw@rabbitmq:5672//"
    result = _compose(
        "config",
        SECRET_KEY=SECRET,
        COMPOSE_PROFILES="rabbitmq",
        CELERY_BROKER_URL=broker,
        RABBITMQ_PASSWORD="pw",
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]

    rabbitmq = services["rabbitmq"]
    assert rabbitmq["profiles"] == ["rabbitmq"]
    assert rabbitmq["environment"]["RABBITMQ_DEFAULT_PASS"] == "pw"
    assert (
        "consumer_timeout 25200000"
        in rabbitmq["environment"]["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    )
    for name in APP_SERVICES:
        assert services[name]["environment"]["CELERY_BROKER_URL"] == broker
    worker = services["worker"]["environment"]
    assert _settings("app.conf.broker_url", cwd=tmp_path, **worker) == broker


@needs_compose
def test_compose_default_environment_loads_as_production_settings(tmp_path):
    web = yaml.safe_load(_compose("config", SECRET_KEY=SECRET).stdout)["services"]["web"]

    values = _settings(
        "[settings.DEBUG, settings.DATABASES['default']['HOST'], app.conf.broker_url,"
        " app.conf.task_always_eager, settings.EMAIL_BACKEND, settings.SECURE_PROXY_SSL_HEADER,"
        " settings.SECURE_SSL_REDIRECT, settings.DEFAULT_FROM_EMAIL]",
        cwd=tmp_path,
        **web["environment"],
    )

    assert values == [
        False,
        "db",
        "redis://redis:6379/0",
        False,
        "django.core.mail.backends.console.EmailBackend",
        ["HTTP_X_FORWARDED_PROTO", "https"],
        True,
        "Waymark <waymark@localhost>",
    ]


def test_dockerfile_runs_as_a_non_root_user_and_serves_with_gunicorn():
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert lines[0] == "FROM python:3.11-slim"
    assert "RUN pip install --require-hashes -r requirements.lock" in lines
    collect = next(line for line in lines if "collectstatic" in line)
    assert "SECRET_KEY=" in collect
    assert "DEBUG=0" in collect
    user = next(line for line in lines if line.startswith("USER "))
    assert user == "USER waymark"
    assert lines.index(user) > lines.index(collect)
    assert lines[-1] == 'CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000"]'


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".git", ".venv", ".env", "db.sqlite3", "**/__pycache__", "staticfiles"} <= ignored
