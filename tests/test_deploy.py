"""Production packaging: docker-compose.yml, the Dockerfile and the production settings.

None of these tests touch the test database. The settings checks run Django in a subprocess
with a clean environment, because the test process itself runs on tests.settings.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

SERVICES = {"web", "worker", "beat", "db", "redis"}
APP_SERVICES = {"web", "worker", "beat"}
REQUIRED_APP_ENV = {
    "SLATE_ENV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "SLATE_PAYOUT_GATEWAY",
    "SLATE_PUBLIC_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "SECURE_SSL_REDIRECT",
}
# Values that must be supplied by whoever deploys, never written in the file.
MUST_BE_SUPPLIED = {
    "SECRET_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
}
# What `docker compose config` needs before it will interpolate the file.
COMPOSE_ENV = {
    "SECRET_KEY": "compose-config-" + "x" * 50,
    "ALLOWED_HOSTS": "slate.example.org",
    "SLATE_PUBLIC_URL": "https://slate.example.org",
    "POSTGRES_PASSWORD": "compose-config-password",
    "STRIPE_SECRET_KEY": "sk_test_compose_config",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_compose_config",
    "STRIPE_WEBHOOK_SECRET": "whsec_compose_config",
    "EMAIL_HOST": "smtp.example.org",
}


def is_secret_name(name: str) -> bool:
    return "SECRET" in name or "PASSWORD" in name or name.endswith("_KEY")


def interpolation(name: str, *, required: bool) -> re.Pattern[str]:
    """`${NAME:?message}`; when not required, also `${NAME}` or `${NAME:-}` (empty default)."""
    alternatives = r":\?[^}]*" if required else r":\?[^}]*|:-|"
    return re.compile(rf"\$\{{{re.escape(name)}(?:{alternatives})\}}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """A clean production environment, not inherited from the test process."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "SLATE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "slate.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "SLATE_PUBLIC_URL": "https://slate.example.org",
        "DJANGO_SETTINGS_MODULE": "slate.settings",
        # Keeps the filesystem broker folders the settings create out of the checkout.
        "SLATE_VAR_DIR": str(tmp_path / "var"),
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], env: dict[str, str], timeout: int = 120):
    return subprocess.run(  # noqa: S603
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


# --- docker-compose.yml -----------------------------------------------------------------------


def test_compose_has_the_five_services(services):
    assert set(services) == SERVICES
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_app_services_share_one_image_and_the_anchored_environment(compose, services):
    app_image = services["web"]["image"]
    using_app_image = {
        name
        for name, service in services.items()
        if "build" in service or service.get("image") == app_image
    }
    assert using_app_image == APP_SERVICES
    assert "&app-env" in COMPOSE_FILE.read_text()
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment == compose["x-app-env"], name
        missing = REQUIRED_APP_ENV - set(environment)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert environment["SLATE_ENV"] == "production"
        assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert environment["SLATE_PAYOUT_GATEWAY"] == "stripe_connect"
        assert "DEBUG" not in environment


def test_app_service_commands(services):
    web = " ".join(services["web"]["command"])
    assert "python manage.py migrate --noinput" in web
    assert web.index("migrate") < web.index("gunicorn slate.wsgi:application")
    assert "0.0.0.0:8000" in web
    # Two processes, whatever the host's CPU count: the release's Stripe calls in flight (and
    # its database connections) are processes x SLATE_RELEASE_THREADS (README, Benchmarks).
    assert services["worker"]["command"] == [
        *("celery", "-A", "slate", "worker", "-l", "info"),
        *("--concurrency", "2"),
    ]
    assert services["beat"]["command"] == [
        "celery",
        *("-A", "slate", "beat", "-l", "info"),
        *("--schedule", "/tmp/celerybeat-schedule"),  # noqa: S108
    ]


def test_secure_ssl_redirect_is_settable_and_on_by_default(services):
    value = services["web"]["environment"]["SECURE_SSL_REDIRECT"]
    assert value == "${SECURE_SSL_REDIRECT:-true}"


def test_healthchecks(services):
    for name in ("db", "redis", "web"):
        assert "healthcheck" in services[name], name
    db_check = " ".join(services["db"]["healthcheck"]["test"])
    assert "pg_isready" in db_check
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    web_check = services["web"]["healthcheck"]["test"]
    assert web_check[:3] == ["CMD", "python", "-c"]
    assert "urllib" in web_check[3]
    assert "http://127.0.0.1:8000/healthz" in web_check[3]


def test_app_services_wait_for_healthy_db_and_redis(services):
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        for dependency in ("db", "redis"):
            assert depends_on[dependency] == {"condition": "service_healthy"}, (name, dependency)


def test_postgres_data_is_on_a_named_volume(compose, services):
    volume_names = {mount.split(":", 1)[0] for mount in services["db"]["volumes"]}
    assert volume_names & set(compose["volumes"])


def test_no_secret_is_hard_coded(compose, services):
    environment = compose["x-app-env"]
    for name in MUST_BE_SUPPLIED:
        assert interpolation(name, required=True).fullmatch(environment[name]), name

    # Anything that looks like a secret, in any service, is interpolated with no default.
    for service_name, service in services.items():
        for name, value in (service.get("environment") or {}).items():
            if is_secret_name(name):
                pattern = interpolation(name, required=name in MUST_BE_SUPPLIED)
                assert pattern.fullmatch(str(value)), (service_name, name, value)

    assert interpolation("POSTGRES_PASSWORD", required=True).fullmatch(
        services["db"]["environment"]["POSTGRES_PASSWORD"]
    )
    database_url = re.fullmatch(
        r"postgres://slate:(?P<password>.+)@db:5432/slate", environment["DATABASE_URL"]
    )
    assert database_url, environment["DATABASE_URL"]
    assert interpolation("POSTGRES_PASSWORD", required=True).fullmatch(database_url["password"])


def compose_command() -> list[str] | None:
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        try:
            result = subprocess.run(  # noqa: S603
                [*command, "version"], capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0:
            return command
    return None


def test_docker_compose_accepts_the_file():
    command = compose_command()
    if command is None:
        pytest.skip("Docker Compose is not installed here (`docker compose version` failed)")
    env = {**os.environ, **COMPOSE_ENV}
    result = run([*command, "-f", str(COMPOSE_FILE), "config", "-q"], env=env)
    assert result.returncode == 0, result.stderr


# --- Dockerfile -------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def test_dockerfile():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")

    runs = [args for keyword, args in instructions if keyword == "RUN"]
    # `pip install .` (options allowed): the project itself is installed from pyproject.toml.
    assert any(re.search(r"\bpip install (?:--?\S+ )*\.(?:\s|$)", args) for args in runs)
    # The share images draw in DejaVu Sans (slate/share_image.DEJAVU_DIR); the slim image
    # lacks it.
    assert any("apt-get install" in args and "fonts-dejavu-core" in args for args in runs)
    [collectstatic] = [args for args in runs if "collectstatic" in args]
    assert "SLATE_ENV=production" in collectstatic
    assert "SECRET_KEY=" in collectstatic
    # The dummy key lives only on that RUN line, never in the image's environment.
    for keyword, args in instructions:
        if keyword in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in args

    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert instructions.index(("USER", users[-1])) > max(
        index for index, (keyword, _) in enumerate(instructions) if keyword == "RUN"
    )

    [cmd] = [args for keyword, args in instructions if keyword == "CMD"]
    cmd = json.loads(cmd)
    assert cmd[:2] == ["gunicorn", "slate.wsgi:application"]
    assert "0.0.0.0:8000" in cmd


def test_dockerignore():
    entries = {line.strip().strip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    wanted = {".venv", "var", ".git", "staticfiles", ".pytest_cache", ".hypothesis"}
    assert wanted <= entries
    assert {"__pycache__", "**/__pycache__"} & entries


# --- Production settings ----------------------------------------------------------------------


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout, output
    assert "WARNINGS" not in output
    assert not re.search(r"security\.W\d+", output), output


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_production_refuses_to_start_without_secret_key(tmp_path, secret_key):
    result = run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=production_env(tmp_path, SECRET_KEY=secret_key),
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def production_setting(tmp_path, name: str, **overrides: str | None) -> str:
    """The value production settings give ``name``, printed by a fresh process."""
    result = run(
        [sys.executable, "-c", f"import django; django.setup(); "
         f"from django.conf import settings; print(settings.{name})"],
        env=production_env(tmp_path, **overrides),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_pays_through_stripe_connect_by_default(tmp_path):
    assert production_setting(tmp_path, "SLATE_PAYOUT_GATEWAY") == "stripe_connect"
    assert production_setting(tmp_path, "EMAIL_BACKEND").endswith(".smtp.EmailBackend")


def test_development_keeps_its_stand_ins(tmp_path):
    """`make run` needs nothing installed: recorded payouts, mail on the console, SQLite, a
    folder broker, links to the local server."""
    development = {
        "SLATE_ENV": "development",
        **dict.fromkeys(["SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "SLATE_PUBLIC_URL"]),
    }
    assert production_setting(tmp_path, "SLATE_PUBLIC_URL", **development) == (
        "http://127.0.0.1:8000"
    )
    assert production_setting(tmp_path, "SLATE_PAYOUT_GATEWAY", **development) == "recording"
    assert production_setting(tmp_path, "EMAIL_BACKEND", **development).endswith(
        ".console.EmailBackend"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLATE_PAYOUT_GATEWAY", "recording"),
        ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
        ("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"),
        ("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend"),
        ("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"),
        ("EMAIL_BACKEND", "anymail.backends.test.EmailBackend"),
        # anymail's own provider backends follow redirects and take proxies from the
        # environment; production sends through Slate's pinned ones (slate.mail_transport).
        ("EMAIL_BACKEND", "anymail.backends.mailgun.EmailBackend"),
        ("EMAIL_BACKEND", "anymail.backends.postmark.EmailBackend"),
        ("EMAIL_BACKEND", "anymail.backends.sendgrid.EmailBackend"),
        ("EMAIL_BACKEND", "anymail.backends.amazon_ses.EmailBackend"),
        ("SLATE_MAIL_API_HTTP_HOSTS", "127.0.0.1"),
        ("STRIPE_API_BASE", "http://127.0.0.1:8420"),
        ("STRIPE_API_BASE", "https://api.stripe.com.example.org"),
        ("SLATE_WEBHOOK_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8"),
        # The development defaults: a SQLite file and a folder broker per container, links in
        # emails pointing at the server itself.
        ("DATABASE_URL", None),
        ("CELERY_BROKER_URL", None),
        ("SLATE_PUBLIC_URL", None),
        ("SLATE_PUBLIC_URL", "http://127.0.0.1:8000"),
        ("SLATE_PUBLIC_URL", "https://localhost"),
    ],
)
def test_production_refuses_to_start_with_a_development_stand_in(tmp_path, name, value):
    """Each would let production run quietly while nothing real happens: payouts marked
    sent with no money moved, mail nobody receives, Stripe answered by a fake, tasks no
    worker sees (a folder broker per container), links in emails to the server's loopback;
    or would let a partner's webhook URL reach our own network (the tests' loopback
    receivers)."""
    for command in (
        [sys.executable, "-c", "import django; django.setup()"],
        [sys.executable, "manage.py", "check", "--deploy"],
    ):
        result = run(command, env=production_env(tmp_path, **{name: value}))
        assert result.returncode != 0, command
        assert "ImproperlyConfigured" in result.stderr, result.stderr
        assert name in result.stderr


@pytest.mark.parametrize("secret", [None, "", "no-colon"], ids=["unset", "empty", "malformed"])
def test_production_refuses_mail_webhooks_without_a_secret(tmp_path, secret):
    """Unauthenticated tracking webhooks would let anyone post bounces and so suppress any
    supporter's address: with them on, production needs ANYMAIL_WEBHOOK_SECRET."""
    result = run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=production_env(tmp_path, SLATE_EMAIL_WEBHOOKS="true", ANYMAIL_WEBHOOK_SECRET=secret),
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "ANYMAIL_WEBHOOK_SECRET" in result.stderr


def test_production_takes_mail_webhooks_with_a_secret_and_leaves_them_off_by_default(tmp_path):
    assert production_setting(tmp_path, "SLATE_EMAIL_WEBHOOKS") == "False"
    on = {"SLATE_EMAIL_WEBHOOKS": "true", "ANYMAIL_WEBHOOK_SECRET": "hooks:" + "x" * 30}
    assert production_setting(tmp_path, "SLATE_EMAIL_WEBHOOKS", **on) == "True"
    assert production_setting(tmp_path, "ANYMAIL", **on) == str(
        {"WEBHOOK_SECRET": "hooks:" + "x" * 30}
    )


def test_production_sends_through_slates_pinned_provider_backends(tmp_path):
    for name in ("MailgunBackend", "PostmarkBackend", "SendGridBackend"):
        backend = f"slate.mail_transport.{name}"
        assert production_setting(tmp_path, "EMAIL_BACKEND", EMAIL_BACKEND=backend) == backend


def test_production_talks_to_stripe_itself(tmp_path):
    base = "https://api.stripe.com"
    assert production_setting(tmp_path, "STRIPE_API_BASE", STRIPE_API_BASE=base) == base


def test_an_unknown_payout_gateway_is_refused_everywhere(tmp_path):
    for environment in ("production", "development"):
        result = run(
            [sys.executable, "-c", "import django; django.setup()"],
            env=production_env(
                tmp_path, SLATE_ENV=environment, SLATE_PAYOUT_GATEWAY="carrier_pigeon"
            ),
        )
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr and "SLATE_PAYOUT_GATEWAY" in result.stderr


def test_a_mailgun_webhook_window_under_a_minute_is_refused_everywhere(tmp_path):
    for environment in ("production", "development"):
        result = run(
            [sys.executable, "-c", "import django; django.setup()"],
            env=production_env(
                tmp_path, SLATE_ENV=environment, SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS="0"
            ),
        )
        assert result.returncode != 0
        assert "SLATE_MAILGUN_WEBHOOK_MAX_AGE_SECONDS" in result.stderr
        assert "ImproperlyConfigured" in result.stderr


def test_web_healthcheck_passes_against_gunicorn_with_production_settings(tmp_path, services):
    """The probe gets past ALLOWED_HOSTS and SECURE_SSL_REDIRECT, as it must in the container."""
    # gunicorn listens on a socket bound here (a port the system picked) and handed over:
    # no moment between choosing a free port and binding it for another process to take it.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    probe = services["web"]["healthcheck"]["test"][3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = production_env(tmp_path, CELERY_BROKER_URL="memory://")
    gunicorn = [sys.executable, "-m", "gunicorn", "slate.wsgi:application", "--workers", "1"]
    with listener:
        server = subprocess.Popen(  # noqa: S603
            [*gunicorn, "--bind", f"fd://{listener.fileno()}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=[listener.fileno()],
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            result = run([sys.executable, "-c", probe], env=env, timeout=15)
            if result.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.3)
    finally:
        server.terminate()
        try:
            log, _ = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            log, _ = server.communicate()
    assert result.returncode == 0, f"{result.stderr}\n--- gunicorn ---\n{log}"
